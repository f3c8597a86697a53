"""Demo users, one per role, for ``manage.py seed_demo``.

The demo password is printed in the README, so only a laptop (DEBUG on) gives
it to the demo users. With DEBUG off (``seed_demo --force`` on a demo server)
they are created with unusable passwords; an administrator gives each a
password with ``manage.py changepassword``, which checks it like any other.
"""

from django.conf import settings
from django.contrib.auth.models import Group

from followup.models import User
from followup.passwords import DEMO_PASSWORD
from followup.roles import Role

DEMO_USERS = [
    # username, display name, role, grade
    ("nurse", "Li Na (李娜)", Role.NURSE, User.Grade.NURSE_PRACTITIONER),
    ("headnurse", "Wang Fang (王芳)", Role.HEAD_NURSE, User.Grade.SUPERVISOR_NURSE),
    ("officer", "Zhao Min (赵敏)", Role.COMPLAINT_OFFICER, User.Grade.OTHER),
    ("admin", "Chen Jie (陈杰)", Role.ADMIN, User.Grade.OTHER),
]


def ensure_user(*, username: str, display_name: str, role: str, grade: str) -> User:
    """Create the user once; later runs leave an existing user as it is."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "display_name": display_name,
            "grade": grade,
            "is_staff": role == Role.ADMIN,
        },
    )
    if created:
        if settings.DEBUG:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=role))
    return user


def seed_users(stdout) -> dict[str, User]:
    users = {}
    for username, display_name, role, grade in DEMO_USERS:
        users[username] = ensure_user(username=username, display_name=display_name, role=role, grade=grade)
    return users
