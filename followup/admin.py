from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Follow-up desk"), {"fields": ("display_name", "grade", "phone")}),
    )
    list_display = ("username", "display_name", "grade", "is_active", "last_login")
    list_filter = ("groups", "grade", "is_active", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
