"""Request parameters as Telegram reads them: form strings or JSON values, coerced per use."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.testing.errors import bad_request
from bot.testing.records import UploadedFile

JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "media",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
        "options",
        "permissions",
    }
)


class Params:
    """Typed access to one request's parameters (values may be JSON-encoded strings)."""

    def __init__(
        self, values: Mapping[str, Any], files: Mapping[str, UploadedFile] | None = None
    ) -> None:
        self.values: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        self.files: dict[str, UploadedFile] = dict(files or {})

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def raw(self, name: str) -> Any:
        """Return the value as received, or None."""
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        """Return a string parameter (numbers are stringified like Telegram does)."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return value
        return json.dumps(value)

    def get_int(self, name: str) -> int | None:
        """Return an integer parameter; unparsable values are an error."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def require_int(self, name: str) -> int:
        """Return an integer parameter that must be present."""
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_float(self, name: str) -> float | None:
        """Return a floating-point parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        """Return a boolean parameter ("true"/"1" are true, like Telegram)."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        return str(value).strip().lower() in ("true", "1")

    def get_json(self, name: str, what: str | None = None) -> Any:
        """Return a JSON-object parameter, decoding it when it arrived as a string."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """Return a chat id: an integer or an ``@username`` string."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def loggable(self) -> dict[str, Any]:
        """Return the parameters with JSON strings decoded, for the call log."""
        decoded: dict[str, Any] = {}
        for key, value in self.values.items():
            if key in JSON_PARAMS and isinstance(value, str):
                try:
                    decoded[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            decoded[key] = value
        return decoded
