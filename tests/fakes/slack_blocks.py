"""Block Kit validation with Slack's documented limits.

Slack rejects a message whose blocks break a limit (``invalid_blocks``), and it does so in
production, typically when a long restore report or an error message makes a section too long.
The stand-in applies the same limits so such bugs fail in tests instead.  Error strings mimic
Slack's: ``"<problem> [json-pointer:/blocks/3/text/text]"``.

Limits follow https://api.slack.com/reference/block-kit/blocks and .../block-elements and
.../composition-objects.  Only limits that are documented are enforced; the checks are
deliberately shallow for rarely used blocks (e.g. ``rich_text`` content is not inspected).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "KNOWN_BLOCK_TYPES",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "validate_blocks",
    "validate_view",
]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)

_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_OTHER_ELEMENTS = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "image",
        "number_input",
        "overflow",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "url_text_input",
        "workflow_button",
        "feedback_buttons",
        "icon_button",
    }
)
KNOWN_ELEMENT_TYPES = _SELECTS | _OTHER_ELEMENTS


class _Collector:
    """Accumulates Slack-style error strings while walking a payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """Check a text composition object."""
        if obj is None:
            if required:
                self.add("missing required field: text", pointer)
            return
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.add(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        value = obj.get("text")
        if not isinstance(value, str):
            self.add("must be a string", f"{pointer}/text")
        elif len(value) == 0:
            self.add("must be more than 0 characters", f"{pointer}/text")
        elif len(value) > max_len:
            self.add(f"must be less than {max_len + 1} characters", f"{pointer}/text")

    def string(self, value: Any, pointer: str, *, max_len: int, required: bool = False) -> None:
        """Check a plain string field's type and length."""
        if value is None:
            if required:
                self.add("missing required field", pointer)
            return
        if not isinstance(value, str):
            self.add("must be a string", pointer)
        elif len(value) > max_len:
            self.add(f"must be less than {max_len + 1} characters", pointer)

    def items(self, value: Any, pointer: str, *, min_items: int, max_items: int) -> list[Any]:
        """Check an array's type and size; return it (or [] when not an array)."""
        if not isinstance(value, list):
            self.add("must be an array", pointer)
            return []
        if len(value) < min_items:
            self.add(f"must provide at least {min_items} items", pointer)
        if len(value) > max_items:
            self.add(f"no more than {max_items} items allowed", pointer)
        return value

    def confirm(self, obj: Any, pointer: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        self.text(obj.get("title"), f"{pointer}/title", max_len=100, plain_only=True)
        self.text(obj.get("text"), f"{pointer}/text", max_len=300)
        self.text(obj.get("confirm"), f"{pointer}/confirm", max_len=30, plain_only=True)
        self.text(obj.get("deny"), f"{pointer}/deny", max_len=30, plain_only=True)

    def option(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        self.text(obj.get("text"), f"{pointer}/text", max_len=75)
        self.string(obj.get("value"), f"{pointer}/value", max_len=150, required=True)

    def element(self, obj: Any, pointer: str, *, action_ids: set[str] | None = None) -> None:
        """Check an interactive element (or an image element inside context/section)."""
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        kind = obj.get("type")
        if kind not in KNOWN_ELEMENT_TYPES and kind not in {"plain_text", "mrkdwn"}:
            self.add(f"unsupported type: {kind}", f"{pointer}/type")
            return
        action_id = obj.get("action_id")
        self.string(action_id, f"{pointer}/action_id", max_len=255)
        if isinstance(action_id, str) and action_ids is not None:
            if action_id in action_ids:
                self.add(f"action_id '{action_id}' is already used by another element in this block", pointer)
            action_ids.add(action_id)
        self.confirm(obj.get("confirm"), f"{pointer}/confirm")
        if kind == "button":
            self.text(obj.get("text"), f"{pointer}/text", max_len=75, plain_only=True)
            self.string(obj.get("value"), f"{pointer}/value", max_len=2000)
            self.string(obj.get("url"), f"{pointer}/url", max_len=3000)
            style = obj.get("style")
            if style is not None and style not in {"primary", "danger"}:
                self.add("must be one of primary, danger", f"{pointer}/style")
        elif kind in _SELECTS:
            self.text(obj.get("placeholder"), f"{pointer}/placeholder", max_len=150, plain_only=True, required=False)
            if "options" in obj:
                for i, option in enumerate(
                    self.items(obj["options"], f"{pointer}/options", min_items=1, max_items=100)
                ):
                    self.option(option, f"{pointer}/options/{i}")
        elif kind == "overflow":
            for i, option in enumerate(self.items(obj.get("options"), f"{pointer}/options", min_items=1, max_items=5)):
                self.option(option, f"{pointer}/options/{i}")
        elif kind in {"checkboxes", "radio_buttons"}:
            for i, option in enumerate(self.items(obj.get("options"), f"{pointer}/options", min_items=1, max_items=10)):
                self.option(option, f"{pointer}/options/{i}")
        elif kind == "image":
            if "image_url" not in obj and "slack_file" not in obj:
                self.add("missing required field: image_url", pointer)
            self.string(obj.get("alt_text"), f"{pointer}/alt_text", max_len=2000, required=True)
        elif kind in {"plain_text", "mrkdwn"}:
            self.text(obj, pointer, max_len=3000)

    def block(self, obj: Any, pointer: str, block_ids: set[str]) -> None:
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        kind = obj.get("type")
        if kind is None:
            self.add("missing required field: type", pointer)
            return
        if kind not in KNOWN_BLOCK_TYPES:
            self.add(f"unsupported type: {kind}", f"{pointer}/type")
            return
        block_id = obj.get("block_id")
        self.string(block_id, f"{pointer}/block_id", max_len=255)
        if isinstance(block_id, str):
            if block_id in block_ids:
                self.add(f"duplicate block_id: {block_id}", f"{pointer}/block_id")
            block_ids.add(block_id)
        if kind == "section":
            if "text" not in obj and "fields" not in obj:
                self.add("must provide either 'text' or 'fields'", pointer)
            if "text" in obj:
                self.text(obj["text"], f"{pointer}/text", max_len=3000)
            if "fields" in obj:
                for i, item in enumerate(self.items(obj["fields"], f"{pointer}/fields", min_items=1, max_items=10)):
                    self.text(item, f"{pointer}/fields/{i}", max_len=2000)
            if "accessory" in obj:
                self.element(obj["accessory"], f"{pointer}/accessory", action_ids=set())
        elif kind == "header":
            self.text(obj.get("text"), f"{pointer}/text", max_len=150, plain_only=True)
        elif kind == "context":
            elements = self.items(obj.get("elements"), f"{pointer}/elements", min_items=1, max_items=10)
            for i, element in enumerate(elements):
                if isinstance(element, Mapping) and element.get("type") not in {"image", "plain_text", "mrkdwn"}:
                    self.add("must be one of image, plain_text, mrkdwn", f"{pointer}/elements/{i}/type")
                else:
                    self.element(element, f"{pointer}/elements/{i}")
        elif kind == "actions":
            action_ids: set[str] = set()
            elements = self.items(obj.get("elements"), f"{pointer}/elements", min_items=1, max_items=25)
            for i, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{i}", action_ids=action_ids)
        elif kind == "image":
            if "image_url" not in obj and "slack_file" not in obj:
                self.add("missing required field: image_url", pointer)
            self.string(obj.get("image_url"), f"{pointer}/image_url", max_len=3000)
            self.string(obj.get("alt_text"), f"{pointer}/alt_text", max_len=2000, required=True)
            if "title" in obj:
                self.text(obj["title"], f"{pointer}/title", max_len=2000, plain_only=True)
        elif kind == "input":
            self.text(obj.get("label"), f"{pointer}/label", max_len=2000, plain_only=True)
            if "hint" in obj:
                self.text(obj["hint"], f"{pointer}/hint", max_len=2000, plain_only=True)
            if "element" not in obj:
                self.add("missing required field: element", pointer)
            else:
                self.element(obj["element"], f"{pointer}/element", action_ids=set())
        elif kind == "markdown":
            self.string(obj.get("text"), f"{pointer}/text", max_len=12000, required=True)
        elif kind == "rich_text":
            self.items(obj.get("elements"), f"{pointer}/elements", min_items=1, max_items=100)


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style error strings for ``blocks``; an empty list means Slack would accept them."""
    collector = _Collector()
    block_ids: set[str] = set()
    for i, block in enumerate(collector.items(blocks, pointer, min_items=0, max_items=max_blocks)):
        collector.block(block, f"{pointer}/{i}", block_ids)
    return collector.errors


def validate_view(view: Any) -> list[str]:
    """Return Slack-style error strings for a modal or App Home ``view`` payload."""
    collector = _Collector()
    if not isinstance(view, Mapping):
        collector.add("must be an object", "/view")
        return collector.errors
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        collector.add("must be one of modal, home", "/view/type")
    if kind == "modal":
        collector.text(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                collector.text(view[key], f"/view/{key}", max_len=24, plain_only=True)
        blocks = view.get("blocks")
        if (
            isinstance(blocks, list)
            and "submit" not in view
            and any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
        ):
            collector.add("must provide 'submit' when the view contains input blocks", "/view/submit")
    collector.string(view.get("private_metadata"), "/view/private_metadata", max_len=3000)
    collector.string(view.get("callback_id"), "/view/callback_id", max_len=255)
    collector.string(view.get("external_id"), "/view/external_id", max_len=255)
    collector.errors.extend(validate_blocks(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks"))
    return collector.errors
