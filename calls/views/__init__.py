"""Views of the calls app, one module per screen family:

- ``discharges``: registering a discharge and the discharge list (issue 3)
- ``scripts``: script preview for the admin (issue 4)
- ``worklist``: the nurse's worklist and the head nurse's reassignment (issue 5)
- ``calls``: the call screen and the head nurse's clinical alerts (issue 5)
- ``drafts``: the call screen's autosave of what the nurse types (issue 17)
- ``patients``: who looked at a patient's records, for the head nurse

The head nurse's dashboard, its export and the spot checks are in ``calls.dashboard``.
"""
