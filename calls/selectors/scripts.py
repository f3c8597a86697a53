"""Read queries for call scripts: what the nurse sees on the call screen and
which script version a call uses."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import get_language

from calls.models import CallScript, Question, RuleStep, ScriptVersion, TalkingPoint
from followup.prepared import Params

PHASE_ORDER: list[str] = [
    TalkingPoint.Phase.PREPARATION,
    TalkingPoint.Phase.OPENING,
    TalkingPoint.Phase.MAIN,
    TalkingPoint.Phase.CLOSING,
]


@dataclass
class PhaseBlock:
    phase: str
    label: str
    points: list[TalkingPoint] = field(default_factory=list)


@dataclass
class ScriptRender:
    version: ScriptVersion
    phases: list[PhaseBlock]
    questions: list[Question]

    def phase(self, phase: str) -> PhaseBlock:
        return next(block for block in self.phases if block.phase == phase)


def _with_content(versions: list[ScriptVersion]) -> None:
    """Load the script, talking points and questions of ``versions`` in a
    fixed number of queries (nothing more if they were prefetched already)."""
    prefetch_related_objects(
        versions,
        "script",
        Prefetch("talking_points", queryset=TalkingPoint.objects.order_by("order", "pk")),
        Prefetch("questions", queryset=Question.objects.order_by("order", "pk")),
    )


# The talking points and questions of published and retired versions, by
# version: their content never changes once published (the admin and the
# services refuse, calls.services.scripts.script_version_is_locked), and
# every call screen shows one, so each process reads them once. Drafts are
# read every time. Bounded: a hospital has some hundreds of versions.
# Keyed by more than the id, so that a database restored under a running
# process (its ids used again) is not answered from the old one.
_LOCKED_CONTENT: dict[tuple, tuple[list[TalkingPoint], list[Question]]] = {}
_LOCKED_KEPT = 512


def locked_key(version: ScriptVersion) -> tuple | None:
    """What names a published or retired version's content, which never
    changes, among every database a process may have seen; None for a draft."""
    if version.status == ScriptVersion.Status.DRAFT:
        return None
    return (version.pk, version.script_id, version.number, version.published_at)


def _content(version: ScriptVersion) -> tuple[list[TalkingPoint], list[Question]]:
    key = locked_key(version)
    if key is None:
        _with_content([version])
        return list(version.talking_points.all()), list(version.questions.all())
    content = _LOCKED_CONTENT.get(key)
    if content is None:
        points = list(TalkingPoint.objects.filter(version_id=version.pk).order_by("order", "pk"))
        questions = list(Question.objects.filter(version_id=version.pk).order_by("order", "pk"))
        for item in (*points, *questions):
            item.version = version  # as a prefetch leaves it: the answers' language is the version's
        if len(_LOCKED_CONTENT) >= _LOCKED_KEPT:
            _LOCKED_CONTENT.clear()
        content = _LOCKED_CONTENT[key] = (points, questions)
    return content


def script_render(*, version: ScriptVersion) -> ScriptRender:
    """The version's talking points grouped by phase (every phase present, in
    call order) and its ordered questions: two queries at most, whatever the
    number of points and questions, and none for a published version this
    process has shown before."""
    points, questions = _content(version)
    by_phase: dict[str, list[TalkingPoint]] = {phase: [] for phase in PHASE_ORDER}
    for point in points:
        by_phase.setdefault(point.phase, []).append(point)
    phases = [
        PhaseBlock(phase=str(phase), label=str(TalkingPoint.Phase(phase).label), points=by_phase[phase])
        for phase in PHASE_ORDER
    ]
    return ScriptRender(version=version, phases=phases, questions=list(questions))


def script_language(code: str | None) -> str | None:
    """The script language a UI language code stands for ("zh-hans", "zh-cn",
    "en-gb"...), or None when no script language matches."""
    base = (code or "").lower().split("-")[0]
    for value in CallScript.Language.values:
        if value.split("-")[0] == base:
            return value
    return None


def language_preference(ui_language: str | None, main_language: str = "") -> list[str]:
    """The script languages to try, in order: the nurse's UI language, then
    the hospital's default language (settings.LANGUAGE_CODE), then the
    script's main language."""
    order: list[str] = []
    for code in (ui_language, settings.LANGUAGE_CODE, main_language):
        language = script_language(code)
        if language and language not in order:
            order.append(language)
    return order


def pick_version(
    versions: list[ScriptVersion], *, ui_language: str | None, main_language: str = ""
) -> ScriptVersion | None:
    """Among a script's published versions (at most one per language), the
    one a nurse working in ``ui_language`` sees: her language, else the
    hospital's, else the script's main language, else the newest."""
    if not versions:
        return None
    newest_first = sorted(versions, key=lambda v: v.number, reverse=True)
    by_language: dict[str, ScriptVersion] = {}
    for version in newest_first:
        by_language.setdefault(version.language, version)
    for language in language_preference(ui_language, main_language):
        if language in by_language:
            return by_language[language]
    return newest_first[0]


def published_versions(script_id: int) -> list[ScriptVersion]:
    """The script's published versions (compiled once, followup/prepared.py)."""
    p = Params(script=script_id)
    return p.objects(
        ("published-versions",),
        lambda: ScriptVersion.objects.filter(script=p["script"], status=ScriptVersion.Status.PUBLISHED).select_related(
            "script"
        ),
    )


def diagnosis_fits(match: str, *, diagnosis: str, icd10: str) -> bool:
    """An empty match fits every diagnosis; otherwise the words must appear in
    the diagnosis text or the ICD-10 code must start with them (any case)."""
    match = match.strip().casefold()
    if not match:
        return True
    return match in diagnosis.casefold() or icd10.casefold().startswith(match)


def script_version_for_call(*, call, shown: int | None = None) -> ScriptVersion | None:
    """The script version the call uses: the one recorded on the call; else
    its rule step's script, else the best active script of the discharge's
    department (a fitting diagnosis match beats an empty match, then a script
    published in the nurse's language wins). Of the chosen script, the
    published version in the nurse's UI language, else in the hospital's
    default language (see ``pick_version``).

    ``shown``: the version the nurse's form was rendered with. It is used
    instead, if it is a published or retired version of the chosen script:
    she records the answers to the questions she saw even if she switched
    language (or the admin published a new version) in between."""
    if call.script_version_id:
        return call.script_version
    ui_language = get_language()
    versions: list[ScriptVersion] = []
    step = call.step if call.step_id else None
    if step is not None and step.script_id:
        versions = published_versions(step.script_id)
    if not versions:
        versions = _department_script_versions(call.discharge, ui_language)
    chosen = pick_version(
        versions, ui_language=ui_language, main_language=versions[0].script.language if versions else ""
    )
    if chosen is not None and shown is not None and shown != chosen.pk:
        other = (
            ScriptVersion.objects.filter(pk=shown, script_id=chosen.script_id)
            .exclude(status=ScriptVersion.Status.DRAFT)
            .select_related("script")
            .first()
        )
        if other is not None:
            return other
    return chosen


def _department_script_versions(discharge, ui_language: str | None) -> list[ScriptVersion]:
    """The published versions of the department script that fits the
    discharge best (empty when none fits)."""
    p = Params(department=discharge.department_id)
    candidates = p.objects(
        ("department-script-versions",),
        lambda: ScriptVersion.objects.filter(
            status=ScriptVersion.Status.PUBLISHED,
            script__is_active=True,
            script__departments__id=p["department"],
        ).select_related("script"),
    )
    by_script: dict[int, list[ScriptVersion]] = {}
    for version in candidates:
        if diagnosis_fits(version.script.diagnosis_match, diagnosis=discharge.diagnosis, icd10=discharge.icd10):
            by_script.setdefault(version.script_id, []).append(version)
    if not by_script:
        return []
    order = language_preference(ui_language)

    def rank(versions: list[ScriptVersion]) -> tuple:
        script = versions[0].script
        languages = {v.language for v in versions}
        language_rank = min((order.index(lang) for lang in languages if lang in order), default=len(order))
        return (not script.diagnosis_match.strip(), language_rank, script.name, script.pk)

    return min(by_script.values(), key=rank)


def script_version_audience(version: ScriptVersion) -> tuple[list[str], int]:
    """Who sees ``version`` on the call screen from now on: the UI languages
    (labels) whose nurses get it, and how many rule steps of active rules
    name its script. Computed with the same choice the call screen makes."""
    versions = published_versions(version.script_id)
    languages = [
        str(label)
        for code, label in settings.LANGUAGES
        if pick_version(versions, ui_language=code, main_language=version.script.language) == version
    ]
    steps = RuleStep.objects.filter(script_id=version.script_id, rule__is_active=True).count()
    return languages, steps
