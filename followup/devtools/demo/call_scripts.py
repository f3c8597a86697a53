"""Demo call scripts for ``manage.py seed_demo``: cardiology, breast-cancer
surgery, oncology and a general script, each in Simplified Chinese and in
English, published and linked to the demo departments (CARD, BRST, ONCO,
GSUR). The texts follow DOMAIN.md sections 4 and 7.

Idempotent: scripts are found by name and language; version 1 is only
created for a script that has no version yet.

``link_rule_steps()`` points every rule step of those departments that has no
script yet at the department's script (in the language of
settings.LANGUAGE_CODE, else Chinese). ``seed`` calls it; a seeder that
creates rules later (discharges.seed) calls it again.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from calls.models import CallScript, Question, RuleStep, ScriptVersion, TalkingPoint
from calls.services.scripts import script_version_create, script_version_publish

from .departments import seed_departments

Phase = TalkingPoint.Phase
Kind = Question.Kind
ZH, EN = CallScript.Language.CHINESE, CallScript.Language.ENGLISH

SAFETY_GUIDANCE_ZH = (
    "家属接听时，先问候家里的情况，切勿一开口就问“病人怎么样了”——患者可能已经去世。"
    "若得知患者已去世：表示诚挚的哀悼（“非常抱歉听到这个消息，请您节哀”），"
    "点击“患者已去世”记录，此后不再给这个家庭打随访电话。"
)
SAFETY_GUIDANCE_EN = (
    "When a family member answers, ask how things are at home first; never start with "
    "“how is the patient?” - the patient may have died. If the patient has died: offer sincere "
    "condolences (“I am so sorry for your loss”), record it with “Patient died”, and make no "
    "further calls to this family."
)


@dataclass
class Point:
    phase: str
    zh: str
    en: str
    zh_guidance: str = ""
    en_guidance: str = ""


@dataclass
class Ask:
    """A question in both languages. ``red`` holds "yes"/"no" for yes/no
    questions, indexes into the choices for choice questions, scores for
    score questions."""

    kind: str
    zh: str
    en: str
    zh_help: str = ""
    en_help: str = ""
    zh_choices: list[str] = field(default_factory=list)
    en_choices: list[str] = field(default_factory=list)
    red: list = field(default_factory=list)
    required: bool = True

    def red_answers(self, language: str) -> list:
        if self.kind in (Kind.SINGLE, Kind.MULTIPLE):
            choices = self.zh_choices if language == ZH else self.en_choices
            return [choices[index] for index in self.red]
        return list(self.red)


@dataclass
class DemoScript:
    zh_name: str
    en_name: str
    department: str
    main: list[Point]
    questions: list[Ask]


# --- shared by every script -----------------------------------------------------------

PREPARATION = [
    Point(
        Phase.PREPARATION,
        "拨打前阅读出院记录：诊断、出院医嘱、用药、出院时尚存在的问题，以及以往的回访记录。",
        "Before dialling, read the discharge record: diagnosis, discharge instructions, medicines, "
        "problems still open at discharge, and the notes of earlier calls.",
        "留意患者的文化程度、性格和恢复情况，准备好本病种的提纲；尽量在患者方便的时间拨打。",
        "Note the patient's education level, personality and recovery, and have this disease's outline "
        "at hand; call at a time that suits the patient.",
    ),
]

OPENING = [
    Point(
        Phase.OPENING,
        "您好！我是XX医院XX科的护士XX。请问您是（患者姓名）本人，还是家属？",
        "Good afternoon, this is nurse (your name) from the (department) ward of (hospital). "
        "Am I speaking with (patient's name), or with a family member?",
        "先弄清接电话的是患者本人还是家属。根据年龄、性别、文化程度得体称呼（如“王阿姨”“李老师”），"
        "始终称“您”，不说“喂”。",
        "First find out whether the patient or a family member is on the line. Address them properly "
        "for their age, sex and education, and stay polite throughout.",
    ),
    Point(
        Phase.OPENING,
        "（家属接听时）您好，请问您家里最近都还好吗？",
        "(If a family member answers) Hello, how are things at home these days?",
        SAFETY_GUIDANCE_ZH,
        SAFETY_GUIDANCE_EN,
    ),
    Point(
        Phase.OPENING,
        "我是您住院期间的责任护士。今天打电话来，是想了解一下您出院后的恢复情况，给您一些康复方面的建议，"
        "大约需要5到10分钟。您现在方便吗？",
        "I was your nurse during your stay. I am calling to hear how you have been since going home and "
        "to give you some advice on your recovery; it takes about five to ten minutes. Is now a good time?",
        "尽量以住院期间责任护士的身份介绍自己，说明目的、内容和所需时间。对方不方便时，询问合适的时间并预约回拨。",
        "Introduce yourself as their nurse during the stay where you can, and say the purpose, content and "
        "length of the call. If it is not a good time, ask when suits them and book the call back.",
    ),
]

ETIQUETTE = Point(
    Phase.MAIN,
    "您对住院期间我们的服务还满意吗？有没有什么意见或建议？",
    "Were you satisfied with our care during your stay? Do you have any comments or suggestions?",
    "认真倾听，不打断，复述确认您理解的内容；表扬患者做得好的地方。需要查询时先征得同意并说明时间"
    "（“我帮您查一下，大约需要一分钟，您稍等好吗？”），回来时说“让您久等了”。当场答不了的问题，"
    "告诉对方由谁、在什么时候答复，不说“不知道”“不清楚”。医疗问题谨慎回答，电话随访不是远程诊疗，"
    "需要时建议门诊就诊。有投诉时点击“提出投诉”。",
    "Listen fully without interrupting and repeat back what you understood; praise what the patient does "
    "well. Before putting them on hold, ask and say how long (“May I check that for you? It will take about "
    "a minute.”) and say “Sorry to keep you waiting” on return. If you cannot answer now, say who will "
    "answer and when. Answer medical questions cautiously: this call is not telemedicine; advise a clinic "
    "visit where needed. Use “Raise complaint” for a complaint.",
)

CLOSING = [
    Point(
        Phase.CLOSING,
        "今天我们主要聊了（简要复述要点）。您在（具体做得好的地方）方面做得很好，请继续保持。",
        "Today we talked about (summarise the main points). You are doing well with (something specific); "
        "please keep it up.",
        "总结要简短，别让患者太累。",
        "Keep the summary short so the patient does not tire.",
    ),
    Point(
        Phase.CLOSING,
        "请问您还有其他需要我们帮忙的吗？",
        "Is there anything else we can help you with?",
        "结束前一定要问还有没有别的事情。",
        "Always ask this before ending the call.",
    ),
    Point(
        Phase.CLOSING,
        "我们下次大约在（日期）再给您打电话，您看那时方便吗？",
        "We will call you again around (date). Would that suit you?",
        "预约下次回访时间，记录在“下次随访日期”中。",
        "Book the next call and record it under “next call booked for”.",
    ),
    Point(
        Phase.CLOSING,
        "非常感谢您的配合！祝您早日康复，生活愉快。再见！",
        "Thank you very much for your time. We wish you a good recovery. Goodbye!",
        "真诚致谢并送上祝福，等对方先挂电话。",
        "Thank them sincerely, give your good wishes, and let them hang up first.",
    ),
]

SUGGESTIONS = Ask(
    Kind.TEXT,
    "您对我们的工作还有什么意见或建议？",
    "Any comments or suggestions for us?",
    "记录患者的原话；“基本满意”或“不满意”的意见要分类上报并跟进到解决。",
    "Write down their own words; opinions of “basically satisfied” or “unsatisfied” patients are reported "
    "and followed up until solved.",
    required=False,
)

# --- per disease ----------------------------------------------------------------------

CARDIOLOGY = DemoScript(
    zh_name="心内科出院随访",
    en_name="Cardiology discharge follow-up",
    department="CARD",
    main=[
        Point(
            Phase.MAIN,
            "出院后您感觉怎么样？日常生活能自己照顾自己吗？",
            "How have you been feeling since you went home? Can you look after yourself day to day?",
            "了解自理能力，以及有无胸闷、气短、心慌、下肢水肿。",
            "Ask about self-care and any chest tightness, breathlessness, palpitations or swollen ankles.",
        ),
        Point(
            Phase.MAIN,
            "您现在吃的药，都是按医生说的时间和剂量吃的吗？有没有自己停药或减量？",
            "Are you taking your medicines at the times and doses the doctor prescribed? Have you stopped "
            "or cut down any yourself?",
            "逐一核对药名、剂量和时间；提醒不可擅自停用抗血小板药、降压药和他汀类药；出现牙龈出血、黑便要及时就诊。",
            "Go through each medicine, dose and time; remind them never to stop antiplatelet, blood-pressure or "
            "statin tablets on their own; bleeding gums or black stools need a doctor soon.",
        ),
        Point(
            Phase.MAIN,
            "平时有没有注意避开容易诱发发作的情况，比如过度劳累、情绪激动、受凉、吃得过饱、用力排便？",
            "Are you avoiding the things that can bring on an attack, such as overwork, getting upset, "
            "catching cold, large meals or straining on the toilet?",
        ),
        Point(
            Phase.MAIN,
            "您有没有按时到门诊复诊？下次复诊是哪一天？",
            "Have you been to your outpatient check-up as planned? When is the next one?",
            "提醒复诊时带上出院小结和正在吃的药；需要时告知门诊时间和挂号方式。",
            "Remind them to bring the discharge summary and their medicines; give clinic times and how to book "
            "if needed.",
        ),
        Point(
            Phase.MAIN,
            "饮食上有没有做到低盐低脂、少量多餐、多吃蔬菜水果？",
            "Are you eating low-salt, low-fat meals, smaller and more often, with plenty of vegetables and fruit?",
            "每天食盐不超过5克；少吃肥肉、动物内脏和腌制食品。",
            "No more than 5 g of salt a day; little fatty meat, offal or pickled food.",
        ),
        Point(
            Phase.MAIN,
            "平时活动和休息是怎么安排的？活动后有没有胸闷、气短？",
            "How do you balance activity and rest? Any chest tightness or breathlessness after activity?",
            "循序渐进，以不感到累为度，如散步、打太极拳；避免剧烈运动和提重物。",
            "Build up gradually and stop before getting tired (walking, tai chi); avoid strenuous exercise and "
            "heavy lifting.",
        ),
        Point(
            Phase.MAIN,
            "您现在还抽烟、喝酒吗？",
            "Do you still smoke or drink alcohol?",
            "鼓励彻底戒烟，也避免吸二手烟，限制饮酒；已经戒了的要肯定和鼓励。",
            "Encourage stopping smoking for good, avoiding second-hand smoke and limiting alcohol; praise those "
            "who have stopped.",
        ),
        Point(
            Phase.MAIN,
            "最近心情怎么样？会不会容易着急、生气或者担心？",
            "How is your mood lately? Do you get anxious, angry or worried easily?",
            "情绪激动可诱发心绞痛；鼓励保持心情平和，请家属多陪伴。",
            "Strong emotions can bring on angina; encourage calm and ask the family to keep them company.",
        ),
        Point(
            Phase.MAIN,
            "睡眠和大便情况怎么样？",
            "How are your sleep and bowel movements?",
            "保证充足睡眠；保持大便通畅，排便时不要用力屏气，必要时遵医嘱用缓泻剂。",
            "Enough sleep; keep stools soft, do not strain, and use a laxative if the doctor prescribed one.",
        ),
        Point(
            Phase.MAIN,
            "您对住院期间的治疗和护理满意吗？心里有没有什么顾虑，需要我们帮忙的？",
            "Were you satisfied with your treatment and care in hospital? Is anything worrying you that we "
            "could help with?",
            # The tenth topic is satisfaction: the etiquette reminder goes with it.
            "关注心理需求，必要时转介心理门诊。" + ETIQUETTE.zh_guidance,
            "Listen for psychological needs; refer to the psychology clinic if needed. " + ETIQUETTE.en_guidance,
        ),
    ],
    questions=[
        Ask(
            Kind.YES_NO,
            "休息时有没有出现胸痛或胸闷？",
            "Any chest pain or tightness at rest?",
            "胸痛持续超过15分钟不缓解，请立即拨打120。",
            "Chest pain lasting more than 15 minutes: call the emergency number (120) now.",
            red=["yes"],
        ),
        Ask(
            Kind.YES_NO,
            "有没有呼吸困难、夜里不能平躺或者脚踝水肿？",
            "Any breathlessness, being unable to lie flat at night, or swollen ankles?",
            red=["yes"],
        ),
        Ask(Kind.YES_NO, "是否按医嘱按时服药？", "Taking the medicines as prescribed?", red=["no"]),
        Ask(
            Kind.SINGLE,
            "服药后有没有出血？",
            "Any bleeding since starting the medicines?",
            zh_choices=["没有", "牙龈出血或皮肤瘀斑", "黑便或血尿"],
            en_choices=["None", "Bleeding gums or bruising", "Black stools or blood in the urine"],
            red=[2],
        ),
        Ask(
            Kind.SINGLE,
            "吸烟情况",
            "Smoking",
            zh_choices=["从不吸烟", "已戒烟", "仍在吸烟"],
            en_choices=["Never smoked", "Has stopped", "Still smokes"],
        ),
        Ask(Kind.YES_NO, "是否已按时门诊复诊？", "Has been to the outpatient check-up as planned?"),
        Ask(
            Kind.NUMBER,
            "最近一次测量的血压收缩压（高压），mmHg",
            "Latest systolic (upper) blood pressure, mmHg",
            required=False,
        ),
        SUGGESTIONS,
    ],
)

BREAST = DemoScript(
    zh_name="乳腺癌术后随访",
    en_name="Breast cancer surgery follow-up",
    department="BRST",
    main=[
        Point(
            Phase.MAIN,
            "手术那一侧的手臂现在活动得怎么样？每天都在做功能锻炼吗？",
            "How is the arm on the side of the operation moving now? Are you doing your arm exercises every day?",
            "按进度做爬墙、梳头等练习；患侧手臂不提重物，不在患侧测血压、抽血或输液；留意有无肿胀。",
            "Wall-climbing and hair-combing exercises as scheduled; no heavy lifting with that arm, no blood "
            "pressure, blood tests or drips on that side; watch for swelling.",
        ),
        Point(
            Phase.MAIN,
            "化疗或放疗后身体恢复得怎么样？有没有恶心、乏力、发热，或者放疗部位皮肤破溃？",
            "How are you recovering after chemotherapy or radiotherapy? Any nausea, tiredness, fever, or broken "
            "skin where you had radiotherapy?",
            "化疗后按时复查血常规；放疗区皮肤保持清洁干燥，不抓挠，不涂刺激性的东西。",
            "Blood counts checked on time after chemotherapy; keep the radiotherapy area clean and dry, do not "
            "scratch it or put anything harsh on it.",
        ),
        Point(
            Phase.MAIN,
            "您如果带着PICC管：有没有每周按时到医院冲管、换贴膜？穿刺的地方有没有红肿、渗液，手臂有没有肿？",
            "If you have a PICC line: are you having it flushed and the dressing changed every week? Any "
            "redness or oozing where it goes in, or a swollen arm?",
            "每7天维护一次；贴膜卷边或潮湿要及时更换；手臂肿痛并发热，须当天就诊。",
            "Care every 7 days; change a curling or damp dressing at once; a swollen painful arm with fever "
            "needs a doctor the same day.",
        ),
        Point(
            Phase.MAIN,
            "饮食和吃药的情况怎么样？内分泌治疗的药有没有按时吃？",
            "How are your diet and medicines? Are you taking the hormone therapy tablets on time?",
            "饮食均衡，多吃优质蛋白，少吃油炸和腌制食品；不要自行服用来路不明的保健品。",
            "Balanced meals with good protein, little fried or pickled food; no supplements of unknown origin.",
        ),
        Point(
            Phase.MAIN,
            "住院期间，您知道自己的责任护士是谁吗？",
            "During your stay, did you know who your responsible nurse was?",
        ),
        Point(
            Phase.MAIN,
            "您觉得护士的服务态度和操作技术怎么样？",
            "What did you think of the nurses' attitude and skill?",
        ),
        Point(
            Phase.MAIN,
            "住院费用方面，有没有不清楚的地方？",
            "Is anything about the hospital fees unclear to you?",
            "对收费政策有疑问的，说明由住院处谁在什么时候答复，不要自行解释没把握的内容。",
            "For questions about the fees policy, say who at the admissions office will answer and when; do not "
            "explain what you are not sure of.",
        ),
        Point(
            Phase.MAIN,
            "您觉得病房的环境和卫生怎么样？",
            "What did you think of the ward's environment and cleanliness?",
        ),
        ETIQUETTE,
    ],
    questions=[
        Ask(
            Kind.YES_NO,
            "手术侧手臂是否肿胀并伴有发热？",
            "Is the arm on the operated side swollen, with a fever?",
            "有则建议当天就诊。",
            "If yes, advise seeing a doctor today.",
            red=["yes"],
        ),
        Ask(
            Kind.SINGLE,
            "手术侧手臂能抬多高？",
            "How high can the operated arm be raised?",
            zh_choices=["能举过头顶", "能平举到肩", "只能小范围活动"],
            en_choices=["Above the head", "To shoulder height", "Only a little"],
        ),
        Ask(
            Kind.YES_NO,
            "PICC穿刺点是否红肿、渗液，或手臂肿痛？",
            "Is the PICC insertion site red or oozing, or the arm swollen and painful?",
            "没有PICC管的不用回答。",
            "Leave empty if there is no PICC line.",
            red=["yes"],
            required=False,
        ),
        Ask(
            Kind.YES_NO,
            "化疗后体温是否超过38℃？",
            "Temperature above 38 °C since chemotherapy?",
            red=["yes"],
            required=False,
        ),
        Ask(Kind.YES_NO, "住院期间是否有固定的责任护士？", "Was there a named responsible nurse during the stay?"),
        Ask(
            Kind.SINGLE,
            "对住院费用",
            "Hospital fees",
            zh_choices=["清楚", "有疑问"],
            en_choices=["Clear", "Has questions"],
        ),
        SUGGESTIONS,
    ],
)

ONCOLOGY = DemoScript(
    zh_name="肿瘤科出院随访",
    en_name="Oncology discharge follow-up",
    department="ONCO",
    main=[
        Point(
            Phase.MAIN,
            "出院后身体感觉怎么样？有没有疼痛？止痛药是按时吃的吗？",
            "How have you been since going home? Any pain? Are you taking the pain medicine on schedule?",
            "止痛药要按时吃，不要等痛了才吃；便秘是常见副作用，注意多喝水、多吃蔬菜。",
            "Pain medicine works best taken on schedule, not only when the pain comes; constipation is common, "
            "so drink plenty and eat vegetables.",
        ),
        Point(
            Phase.MAIN,
            "化疗后有没有恶心、呕吐、吃不下饭、乏力或者发热？",
            "Since chemotherapy, any nausea, vomiting, poor appetite, tiredness or fever?",
            "化疗后白细胞低时容易感染：少去人多的地方，注意手卫生，发热要当天就诊。",
            "Low white cells after chemotherapy make infection likely: avoid crowds, wash hands, and see a doctor "
            "the same day for a fever.",
        ),
        Point(
            Phase.MAIN,
            "有没有按时复查血常规和肝肾功能？",
            "Have you had your blood counts and liver and kidney tests on time?",
        ),
        Point(
            Phase.MAIN,
            "吃饭怎么样？体重有没有明显下降？",
            "How is your eating? Have you lost much weight?",
            "少量多餐，高蛋白、易消化；吃不下时可请营养科会诊。",
            "Small frequent meals, high in protein and easy to digest; the nutrition clinic can help if they "
            "cannot eat.",
        ),
        Point(
            Phase.MAIN,
            "如果带着PICC管或输液港，有没有按时维护？",
            "If you have a PICC line or port, is it being cared for on schedule?",
        ),
        Point(
            Phase.MAIN,
            "最近心情和睡眠怎么样？家里人能陪伴照顾您吗？",
            "How are your mood and sleep lately? Is your family able to be with you and help?",
            "耐心倾听，给予鼓励；需要时介绍心理支持或病友互助活动。",
            "Listen patiently and encourage; mention psychological support or patient groups when helpful.",
        ),
        Point(
            Phase.MAIN,
            "下一周期治疗或复诊是哪一天？",
            "When is your next treatment cycle or clinic appointment?",
        ),
        ETIQUETTE,
    ],
    questions=[
        Ask(
            Kind.YES_NO,
            "体温是否超过38℃或有寒战？",
            "Temperature above 38 °C, or shivering?",
            "化疗后发热须当天就诊。",
            "Fever after chemotherapy needs a doctor the same day.",
            red=["yes"],
        ),
        Ask(
            Kind.SCORE,
            "现在的疼痛程度（1-10分，10分最痛）",
            "Pain now (1-10, 10 the worst)",
            red=[8, 9, 10],
        ),
        Ask(
            Kind.YES_NO,
            "是否完全吃不下东西或持续呕吐？",
            "Unable to eat at all, or vomiting again and again?",
            red=["yes"],
        ),
        Ask(Kind.YES_NO, "是否按时复查血常规？", "Blood counts checked on time?"),
        Ask(Kind.YES_NO, "是否清楚下一周期治疗或复诊的时间？", "Knows the date of the next cycle or appointment?"),
        SUGGESTIONS,
    ],
)

GENERAL = DemoScript(
    zh_name="通用出院随访",
    en_name="General discharge follow-up",
    department="GSUR",
    main=[
        Point(
            Phase.MAIN,
            "出院后恢复得怎么样？和刚出院时比，感觉好些了吗？",
            "How is your recovery going? Do you feel better than when you left hospital?",
        ),
        Point(
            Phase.MAIN,
            "手术伤口愈合得怎么样？有没有红、肿、痛或者渗液？",
            "How is the wound healing? Any redness, swelling, pain or oozing?",
            "保持伤口清洁干燥，按时拆线或换药。",
            "Keep the wound clean and dry; stitches out and dressings changed on time.",
        ),
        Point(
            Phase.MAIN,
            "出院带的药都按时吃了吗？",
            "Are you taking the medicines you went home with on time?",
        ),
        Point(
            Phase.MAIN,
            "饮食和活动情况怎么样？",
            "How are your eating and activity?",
            "清淡易消化饮食，逐步增加活动量；术后短期内避免提重物。",
            "Light, easy-to-digest food; increase activity step by step; no heavy lifting soon after surgery.",
        ),
        Point(
            Phase.MAIN,
            "您知道什么情况下需要马上回医院吗？",
            "Do you know which signs mean you should come back to hospital straight away?",
            "如发热、伤口大量渗液、剧烈腹痛、呕吐不止，应立即就诊。",
            "Fever, a lot of fluid from the wound, severe stomach pain or vomiting that will not stop: come in "
            "at once.",
        ),
        Point(
            Phase.MAIN,
            "门诊复诊的时间定了吗？",
            "Is your outpatient check-up booked?",
        ),
        ETIQUETTE,
    ],
    questions=[
        Ask(
            Kind.SINGLE,
            "和出院时相比，身体感觉",
            "Compared with discharge, the patient feels",
            zh_choices=["好转", "差不多", "变差"],
            en_choices=["Better", "About the same", "Worse"],
            red=[2],
        ),
        Ask(
            Kind.YES_NO,
            "伤口是否红肿、渗液或伴有发热？",
            "Is the wound red, swollen or oozing, or is there a fever?",
            "没有手术伤口的不用回答。",
            "Leave empty if there is no wound.",
            red=["yes"],
            required=False,
        ),
        Ask(Kind.YES_NO, "是否按医嘱服药？", "Taking the medicines as prescribed?", red=["no"]),
        Ask(Kind.YES_NO, "是否已预约门诊复诊？", "Outpatient check-up booked?"),
        SUGGESTIONS,
    ],
)

DEMO_SCRIPTS = [CARDIOLOGY, BREAST, ONCOLOGY, GENERAL]


def _fill(version: ScriptVersion, demo: DemoScript, language: str) -> None:
    points = [*PREPARATION, *OPENING, *demo.main, *CLOSING]
    zh = language == ZH
    TalkingPoint.objects.bulk_create(
        TalkingPoint(
            version=version,
            phase=point.phase,
            order=order,
            text=point.zh if zh else point.en,
            guidance=point.zh_guidance if zh else point.en_guidance,
        )
        for order, point in enumerate(points, start=1)
    )
    Question.objects.bulk_create(
        Question(
            version=version,
            order=order,
            kind=ask.kind,
            text=ask.zh if zh else ask.en,
            help_text=ask.zh_help if zh else ask.en_help,
            choices=ask.zh_choices if zh else ask.en_choices,
            required=ask.required,
            red_flag_answers=ask.red_answers(language),
        )
        for order, ask in enumerate(demo.questions, start=1)
    )


def link_rule_steps() -> int:
    """Give every demo-department rule step without a script the department's
    demo script (language of settings.LANGUAGE_CODE, else Chinese). Returns
    how many steps changed; a second run changes none."""
    preferred = EN if settings.LANGUAGE_CODE.lower().startswith("en") else ZH
    changed = 0
    for demo in DEMO_SCRIPTS:
        name = demo.en_name if preferred == EN else demo.zh_name
        script = CallScript.objects.filter(name=name, language=preferred).first()
        if script is None:
            continue
        changed += RuleStep.objects.filter(rule__department__code=demo.department, script__isnull=True).update(
            script=script
        )
    return changed


@transaction.atomic
def seed(stdout) -> dict[tuple[str, str], CallScript]:
    departments = seed_departments(stdout)
    publisher = get_user_model().objects.filter(username="admin").first()  # the demo admin, if seeded
    scripts = {}
    created = 0
    for demo in DEMO_SCRIPTS:
        for language, name in ((ZH, demo.zh_name), (EN, demo.en_name)):
            script, _ = CallScript.objects.get_or_create(name=name, language=language)
            script.departments.add(departments[demo.department])
            scripts[(demo.department, language)] = script
            if script.versions.exists():
                continue
            version = script_version_create(script=script, by=None, notes="Demo script.")
            _fill(version, demo, language)
            script_version_publish(version=version, by=publisher)
            created += 1
    linked = link_rule_steps()
    stdout.write(f"Call scripts: {len(scripts)} in place, {created} published now, {linked} rule steps linked.")
    return scripts
