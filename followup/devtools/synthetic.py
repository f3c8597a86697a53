"""Synthetic data shared by the benchmarks and the load test (never the demo,
which ships real-looking scripts as files)."""

from calls.models import CallScript, Department, Question, ScriptVersion, TalkingPoint


def synthetic_script(
    *, name: str, department: Department, points_per_phase: int, questions: int
) -> tuple[ScriptVersion, list[Question]]:
    """A published English script of the department: ``points_per_phase``
    talking points in each phase and ``questions`` yes/no questions, the
    first of which has "yes" as a red flag."""
    script = CallScript.objects.create(name=name, language=CallScript.Language.ENGLISH)
    script.departments.add(department)
    version = ScriptVersion.objects.create(script=script, number=1, status=ScriptVersion.Status.PUBLISHED)
    TalkingPoint.objects.bulk_create(
        TalkingPoint(version=version, phase=phase, order=i, text=f"Talking point {i} of {phase}")
        for phase in TalkingPoint.Phase.values
        for i in range(points_per_phase)
    )
    created = Question.objects.bulk_create(
        Question(
            version=version,
            order=i,
            text=f"Question {i}?",
            kind=Question.Kind.YES_NO,
            red_flag_answers=["yes"] if i == 0 else [],
        )
        for i in range(questions)
    )
    return version, created
