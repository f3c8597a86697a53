"""Views of the calls app, one module per screen family:

- ``discharges``: registering a discharge (issue 3)
- ``scripts``: script preview for the admin (issue 4)
- ``worklist``: the nurse's worklist and call screen (issue 5)
(the head nurse's dashboard and spot checks are in ``calls.dashboard``)
"""
