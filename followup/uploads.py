"""Upload sizes refused while the body arrives, before it is stored.

A view that takes files says how large one may be with
``@upload_limit("EVIDENCE_MAX_BYTES")`` (the name of a setting, read on each
request). Any other view takes no file at all: the log-in page, for one, must
not let a stranger fill the server's disk with a multipart body that Django
would otherwise spool to a temporary file before any view runs.

``LimitedUploadHandler`` is the first of ``FILE_UPLOAD_HANDLERS``, so it runs
whoever parses the body first. Here that is RejectNulMiddleware (and then
CsrfViewMiddleware), before the view: a handler that the view inserts itself,
as Django's documentation shows, would come too late. The handler finds the
view by resolving the path, as the URL resolver will do again a moment later.

Two checks stop the parse with ``StopUpload(connection_reset=True)``, so the
rest of the body is never read:

- Content-Length: a body larger than the limit plus what the form's other
  fields may take (DATA_UPLOAD_MAX_MEMORY_SIZE, and room for the parts'
  headers) cannot hold a file the view accepts. It is refused at the first
  file part, before a byte of the file is read; the fields before that part
  (the CSRF token, the form's text) are parsed, so the view can answer with
  its form and a message.
- While a file streams in: its bytes are counted as each chunk arrives and the
  upload stops as soon as the file passes the limit, whatever Content-Length
  said (a chunked body has none).

Nothing is stored either way. The view learns which file field was refused
from ``refused_uploads(request)``; a form with ``RefusedUploadsMixin`` shows
the "too large" message on that field instead of "This field is required".
The browser shows that answer although the server stopped reading: Chromium
did so behind gunicorn even for a 400 MB file it was still sending (tried by
hand). A reverse proxy that buffers request bodies, as nginx does by default,
receives the whole body itself; give it a body limit (nginx's
``client_max_body_size``) of at least the largest limit here plus
DATA_UPLOAD_MAX_MEMORY_SIZE.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

# Multipart part headers (boundaries, Content-Disposition, Content-Type) of a
# form's fields, on top of their values.
PART_HEADERS_ALLOWANCE = 64 * 1024


def upload_limit(setting: str) -> Callable:
    """View decorator: the view takes files of up to ``settings.<setting>`` bytes each."""

    def decorator(view: Callable) -> Callable:
        view.upload_limit_setting = setting
        return view

    return decorator


def view_upload_limit(request: HttpRequest) -> int:
    """The largest file the requested view takes, in bytes (0: none)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return 0
    setting = getattr(match.func, "upload_limit_setting", None)
    return int(getattr(settings, setting)) if setting else 0


def refused_uploads(request: HttpRequest) -> dict[str, int]:
    """File field name (with its form prefix) -> the limit it went over."""
    return getattr(request, "refused_uploads", {})


def too_large_message(limit: int) -> str:
    return _("The file is larger than %(limit)s, the largest accepted. Nothing was saved: choose a smaller file.") % {
        "limit": filesizeformat(limit)
    }


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.limit = 0
        self.body_too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = view_upload_limit(self.request)
        allowance = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + PART_HEADERS_ALLOWANCE
        self.body_too_large = content_length > self.limit + allowance
        return None  # go on parsing: the fields before the file are wanted

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if self.body_too_large or (content_length is not None and content_length > self.limit):
            self._refuse()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self._refuse()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) keeps the file

    def _refuse(self):
        if not hasattr(self.request, "refused_uploads"):
            self.request.refused_uploads = {}
        self.request.refused_uploads[self.field_name] = self.limit
        raise StopUpload(connection_reset=True)


class RefusedUploadsMixin:
    """For a form with file fields, bound with ``refused_uploads=refused_uploads(request)``:
    a file the handler refused is reported on its own field."""

    def __init__(self, *args, refused_uploads: dict[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        refused = refused_uploads or {}
        self.refused_files = {
            name: refused[self.add_prefix(name)] for name in self.fields if self.add_prefix(name) in refused
        }

    def full_clean(self):
        super().full_clean()
        if not self.is_bound:
            return
        for name, limit in self.refused_files.items():
            self.cleaned_data.pop(name, None)
            self.errors[name] = self.error_class([too_large_message(limit)], renderer=self.renderer)
