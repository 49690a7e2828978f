"""Evidence files answering a finding: checked by their content, stored at a random path
under MEDIA_ROOT, hashed, and read back only by users who may see the finding.

- The type is sniffed from the first bytes (PDF, JPG, PNG); the name and the browser's
  content type are not believed: a text file named ``.pdf`` is refused.
- At most ``settings.PORTAL_EVIDENCE_MAX_BYTES`` each, counted while reading, not taken
  from the request.
- All files are checked before anything is written: one bad file refuses the whole answer.
- A file written by a transaction that then rolls back is removed again (``saving``).
"""

import hashlib
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from portal.models import FindingEvidence

K = FindingEvidence.Kind

# Magic numbers: PDF 1.7 (ISO 32000-1, 7.5.2) header; JPEG SOI marker + the first marker's
# 0xFF; PNG's 8-byte signature (RFC 2083, 3.1).
MAGIC = [
    (b"%PDF-", K.PDF),
    (b"\xff\xd8\xff", K.JPG),
    (b"\x89PNG\r\n\x1a\n", K.PNG),
]
MIME = {K.PDF: "application/pdf", K.JPG: "image/jpeg", K.PNG: "image/png"}
MAX_FILES = 10  # a page of evidence; more is a zip the bureau cannot read anyway
CHUNK = 64 * 1024


def storage() -> FileSystemStorage:
    """Where evidence lives: MEDIA_ROOT/evidence, which nothing serves publicly."""
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "evidence", base_url=None)


def sniff(head: bytes):
    """The kind of a file from its first bytes, or None."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


@dataclass
class Checked:
    upload: object
    name: str
    kind: str
    size: int
    sha256: str


def _display_name(upload) -> str:
    return Path(getattr(upload, "name", "") or "未命名").name[:200]


def check_files(files, *, what: str = "整改反馈") -> list[Checked]:
    """Every file checked, or a ValidationError naming each refused file and why; ``what``
    names the submission the files belong to (整改反馈, 举报, 检查记录…) in the message."""
    files = list(files or [])
    limit = settings.PORTAL_EVIDENCE_MAX_BYTES
    if len(files) > MAX_FILES:
        raise ValidationError({"files": f"一次最多上传 {MAX_FILES} 个文件，{what}未提交。"})
    checked, errors = [], []
    for upload in files:
        name = _display_name(upload)
        digest, size, head = hashlib.sha256(), 0, b""
        upload.seek(0)
        for chunk in upload.chunks(CHUNK) if hasattr(upload, "chunks") else [upload.read()]:
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            size += len(chunk)
            if size > limit:
                break
            digest.update(chunk)
        upload.seek(0)
        kind = sniff(head)
        if size == 0:
            errors.append(f"文件“{name}”是空文件，未保存。")
        elif size > limit:
            errors.append(
                f"文件“{name}”超过大小上限（每个文件最多 {filesizeformat(limit)}），未保存。"
            )
        elif kind is None:
            errors.append(
                f"文件“{name}”不是 PDF、JPG 或 PNG 文件（按文件内容判断，与文件名无关），未保存。"
            )
        else:
            checked.append(Checked(upload, name, kind, size, digest.hexdigest()))
    if errors:
        errors.append(f"{what}未提交，请更换文件后重新提交。")
        raise ValidationError({"files": errors})
    return checked


@contextmanager
def storing():
    """Yield a ``write(checked) -> path`` that stores a checked file at a random path under
    the evidence storage (for any record that keeps evidence: findings, complaints, visits);
    the files written are deleted again if the block raises (its transaction rolls back)."""
    store, written = storage(), []

    def write(item: Checked) -> str:
        # 128 random bits: the path says nothing of the school, the record or the name
        path = f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}.{item.kind}"
        item.upload.seek(0)
        written.append(store.save(path, item.upload))
        return written[-1]

    try:
        yield write
    except BaseException:
        for path in written:
            store.delete(path)
        raise


@contextmanager
def saving():
    """Yield a ``save(checked, *, finding, step, by)`` that writes a file and its
    FindingEvidence row (``storing`` for the file)."""
    with storing() as write:

        def save(item: Checked, *, finding, step, by) -> FindingEvidence:
            return FindingEvidence.objects.create(
                finding=finding,
                step=step,
                name=item.name,
                kind=item.kind,
                size=item.size,
                sha256=item.sha256,
                path=write(item),
                by=by,
            )

        yield save


def evidence_for(user, pk: int) -> FindingEvidence | None:
    """The evidence row if ``user`` may see its finding: bureau staff all, a school's
    staff those of the findings their school sees (about it or assigned to it)."""
    from portal.access import SCHOOL, kind_of
    from portal.findings import for_school
    from portal.permissions import is_bureau

    qs = FindingEvidence.objects.select_related("finding")
    if is_bureau(user):
        return qs.filter(pk=pk).first()
    if kind_of(user) == SCHOOL:
        return qs.filter(pk=pk, finding__in=for_school(user.school_staff.school_id)).first()
    return None


def open_file(evidence: FindingEvidence):
    return storage().open(evidence.path, "rb")
