"""Files as Telegram stores them: ids, paths, and the JSON objects messages carry."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from bot.testing.errors import bad_request
from bot.testing.params import Params
from bot.testing.records import StoredFile, UploadedFile

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

MAX_DOWNLOAD = 20 * 1024 * 1024
PHOTO_SIZES = ((90, 68), (320, 240), (800, 600))
_FOLDERS = {
    "photo": ("photos", "jpg"),
    "document": ("documents", ""),
    "voice": ("voice", "oga"),
    "audio": ("music", "mp3"),
    "video": ("videos", "mp4"),
    "animation": ("animations", "mp4"),
    "sticker": ("stickers", "webp"),
    "video_note": ("video_notes", "mp4"),
}
_TYPE_NAMES = {
    "photo": "Photo",
    "document": "Document",
    "voice": "Voice",
    "audio": "Audio",
    "video": "Video",
    "animation": "Animation",
    "sticker": "Sticker",
    "video_note": "VideoNote",
}
# A minimal JPEG: SOI, a JFIF APP0 segment, EOI.
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def store(
    tg: FakeTelegram,
    kind: str,
    data: bytes,
    *,
    filename: str | None = None,
    mime_type: str | None = None,
    duration: int | None = None,
    source_url: str | None = None,
) -> list[StoredFile]:
    """Store new file content; photos get one entry per size (all with the same bytes)."""
    folder, extension = _FOLDERS[kind]
    if not extension and filename and "." in filename:
        extension = filename.rsplit(".", 1)[1]
    sizes: tuple[tuple[int | None, int | None], ...]
    if kind == "photo":
        sizes = PHOTO_SIZES
    elif kind in ("video", "animation"):
        sizes = ((640, 360),)
    elif kind == "sticker":
        sizes = ((512, 512),)
    else:
        sizes = ((None, None),)
    stored: list[StoredFile] = []
    for width, height in sizes:
        file_id, unique_id = tg.new_file_ids()
        number = len(tg.files) + 1
        path = f"{folder}/file_{number}" + (f".{extension}" if extension else "")
        entry = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            data=data,
            file_path=path,
            filename=filename,
            mime_type=mime_type or (mimetypes.guess_type(filename)[0] if filename else None),
            width=width,
            height=height,
            duration=duration,
            source_url=source_url,
        )
        tg.files[file_id] = entry
        stored.append(entry)
    if kind == "photo":
        ids = [entry.file_id for entry in stored]
        for file_id in ids:
            tg.photo_sizes[file_id] = ids
    return stored


def media_json(kind: str, files: list[StoredFile]) -> Any:
    """Return the message field for ``kind`` (a PhotoSize list for photos)."""
    if kind == "photo":
        return [
            {
                "file_id": f.file_id,
                "file_unique_id": f.file_unique_id,
                "file_size": f.size,
                "width": f.width,
                "height": f.height,
            }
            for f in files
        ]
    f = files[0]
    obj: dict[str, Any] = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
    obj["file_size"] = f.size
    if kind in ("document", "audio", "video", "animation") and f.filename:
        obj["file_name"] = f.filename
    if kind != "sticker" and f.mime_type:
        obj["mime_type"] = f.mime_type
    if kind in ("voice", "audio", "video", "animation", "video_note"):
        obj["duration"] = f.duration or 1
    if kind in ("video", "animation", "sticker"):
        obj["width"], obj["height"] = f.width, f.height
    if kind == "sticker":
        obj.update(type="regular", is_animated=False, is_video=False)
    if kind == "video_note":
        obj["length"] = 240
    return obj


def _from_upload(tg: FakeTelegram, kind: str, upload: UploadedFile) -> list[StoredFile]:
    if not upload.data:
        raise bad_request("file must be non-empty")
    mime = upload.mime_type if upload.mime_type != "application/octet-stream" else None
    return store(tg, kind, upload.data, filename=upload.filename, mime_type=mime)


def resolve_input(
    tg: FakeTelegram, p: Params, name: str, kind: str, value: object = None
) -> list[StoredFile]:
    """Turn an input file parameter (upload, attach://, URL or file_id) into stored files."""
    if value is None:
        if name in p.files:
            return _from_upload(tg, kind, p.files[name])
        value = p.get_str(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {name} in the request")
    if value.startswith("attach://"):
        upload = p.files.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"can't find attached file {value[len('attach://') :]!r}")
        return _from_upload(tg, kind, upload)
    if value.startswith(("http://", "https://")):
        # Telegram would download the URL; the fake never reaches the internet.
        filename = value.rsplit("/", 1)[-1] or None
        return store(tg, kind, b"", filename=filename, source_url=value)
    known = tg.files.get(value)
    if known is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if known.kind != kind and not (kind == "document" and known.kind != "photo"):
        raise bad_request(
            f"can't use file of type {_TYPE_NAMES[known.kind]} as {_TYPE_NAMES[kind]}"
        )
    if known.kind == "photo":
        return [tg.files[file_id] for file_id in tg.photo_sizes[known.file_id]]
    return [known]


def file_json(stored: StoredFile) -> dict[str, Any]:
    """Return the ``File`` object getFile answers with."""
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


def find_by_path(tg: FakeTelegram, path: str) -> StoredFile | None:
    """Return the stored file served at ``/file/bot<token>/<path>``."""
    for stored in tg.files.values():
        if stored.file_path == path:
            return stored
    return None
