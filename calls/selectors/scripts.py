"""Read queries for call scripts: what the nurse sees on the call screen and
which script version a call uses."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import get_language

from calls.models import CallScript, Question, ScriptVersion, TalkingPoint

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


def script_render(*, version: ScriptVersion) -> ScriptRender:
    """The version's talking points grouped by phase (every phase present, in
    call order) and its ordered questions: three queries at most, whatever
    the number of points and questions."""
    _with_content([version])
    by_phase: dict[str, list[TalkingPoint]] = {phase: [] for phase in PHASE_ORDER}
    for point in version.talking_points.all():
        by_phase.setdefault(point.phase, []).append(point)
    phases = [
        PhaseBlock(phase=str(phase), label=str(TalkingPoint.Phase(phase).label), points=by_phase[phase])
        for phase in PHASE_ORDER
    ]
    return ScriptRender(version=version, phases=phases, questions=list(version.questions.all()))


def latest_published_version(script: CallScript) -> ScriptVersion | None:
    return (
        ScriptVersion.objects.filter(script=script, status=ScriptVersion.Status.PUBLISHED)
        .select_related("script")
        .order_by("-number")
        .first()
    )


def diagnosis_fits(match: str, *, diagnosis: str, icd10: str) -> bool:
    """An empty match fits every diagnosis; otherwise the words must appear in
    the diagnosis text or the ICD-10 code must start with them (any case)."""
    match = match.strip().casefold()
    if not match:
        return True
    return match in diagnosis.casefold() or icd10.casefold().startswith(match)


def _same_language(script_language: str, ui_language: str) -> bool:
    return script_language.lower().split("-")[0] == ui_language.lower().split("-")[0]


def script_version_for_call(*, call) -> ScriptVersion | None:
    """The script version the call uses: the one recorded on the call; else
    the latest published version of its rule step's script; else the best
    active script of the discharge's department (a fitting diagnosis match
    beats an empty match, then the current UI language wins)."""
    if call.script_version_id:
        return call.script_version
    step = call.step if call.step_id else None
    if step is not None and step.script_id:
        version = latest_published_version(step.script)
        if version is not None:
            return version
    discharge = call.discharge
    candidates = (
        CallScript.objects.filter(
            is_active=True,
            departments=discharge.department_id,
            versions__status=ScriptVersion.Status.PUBLISHED,
        )
        .distinct()
        .order_by("name", "pk")
    )
    ui_language = get_language() or ""
    ranked = sorted(
        (
            script
            for script in candidates
            if diagnosis_fits(script.diagnosis_match, diagnosis=discharge.diagnosis, icd10=discharge.icd10)
        ),
        key=lambda s: (not s.diagnosis_match.strip(), not _same_language(s.language, ui_language)),
    )
    if not ranked:
        return None
    return latest_published_version(ranked[0])
