"""Hostile input at `POST /slack/events`: a clear answer or a clean refusal, nothing done, and the bot keeps serving.

Every request here is sent to the real bot process the way Slack (or someone pretending to be Slack)
would send it. The backup used in the commands exists in the Pinecone emulator, so a command the bot
wrongly accepted would show up as a real create-index call rather than as a harmless 404.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from tests.e2e.harness import BotProcess, Command
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import response_posts, sign
from tests.fakes.workspace import CHANNEL, SIGNING_SECRET, USER

BACKUP = "a65ff585-d987-4da5-a622-72e19a6ed5f4"
FORM = "application/x-www-form-urlencoded"
USAGE = "/restore-index <backup_id> <index_name>"
LIMIT_SENTENCE = "at most 4,000 characters"

# Slack markup that would ping people or render as a link if echoed back unescaped.
LIVE_MARKUP = ("<!", "<@", "<#", "<http", "<mailto")
# Characters that must never be echoed raw: C0/C1 controls (newline is the bot's own layout) and
# bidi embeddings/overrides/isolates, which would scramble the rest of the reply.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# "I can't start that restore", "Tell me which backup ...": at least three words in a row.
SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ '’][A-Za-z]+){2,}")
SECTION_LIMIT = 3000


def assert_nothing_done(
    pinecone: PineconeEmulator, slack: SlackStandIn, bot: BotProcess, response_urls: list[str]
) -> None:
    assert pinecone.create_index_calls == [], "the bot called create-index"
    assert pinecone.requests == [], f"the bot talked to Pinecone: {[(r.method, r.path) for r in pinecone.requests]}"
    assert slack.calls_to("chat.*") == [], f"the bot posted: {[(c.method, c.args) for c in slack.calls_to('chat.*')]}"
    assert slack.calls_to("views.*") == [], "the bot opened or changed a view"
    posted = {url: response_posts(slack, url) for url in response_urls if response_posts(slack, url)}
    assert posted == {}, f"the bot answered on a response_url: {posted}"
    assert bot.jobs() == [], f"the bot recorded a job: {bot.jobs()}"


async def assert_still_serves_and_never_crashed(bot: BotProcess) -> None:
    help_command = await bot.command("help")
    assert help_command.response.status_code == 200
    assert USAGE in help_command.ack_text, f"help no longer answers normally: {help_command.ack}"
    # Stopping reads the log to its end, so nothing written while handling the requests is missed.
    assert await bot.stop() == 0, f"the bot did not stop cleanly; its log:\n{bot.log}"
    crashes = crashes_in(bot.log_lines)
    assert not crashes, "tracebacks in the bot's log (count, logged as, raised):\n" + "\n".join(
        f"{count}x {where} -> {raised}" for (where, raised), count in crashes.items()
    )


def crashes_in(lines: list[str]) -> dict[tuple[str, str], int]:
    """Each distinct traceback in the log, as (the record that logged it, the exception it ends in): count."""
    found: dict[tuple[str, str], int] = {}
    for at, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        where = lines[at - 1].split(" ", 2)[-1] if at else "?"
        raised = next((later for later in lines[at + 1 :] if later and not later.startswith(" ")), "?")
        key = (where, raised[:200])
        found[key] = found.get(key, 0) + 1
    return found


def raw_control_chars(text: str) -> list[str]:
    return sorted({repr(ch) for ch in RAW_CONTROL.findall(text)})


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# ------------------------------------------------------------------------------------------------
# 1. Slash-command text
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    id: str
    text: str
    must_mention: tuple[str, ...] = ()
    # True: refused for its length; False: must not be refused for its length (it fits); None: either.
    too_long: bool | None = None
    # Sent percent-encoded as is, in place of `text` (for bytes that are not UTF-8).
    raw_form_value: str | None = None


def _padded(prefix: str, length: int) -> str:
    return prefix + "x" * (length - len(prefix))


_TAG_PREFIX = f"{BACKUP} restored-index note="

HOSTILE_TEXTS: list[Text] = [
    Text("exactly-4000-chars", _padded(_TAG_PREFIX, 4000), must_mention=("120",), too_long=False),
    Text("4001-chars", _padded(_TAG_PREFIX, 4001), must_mention=("4,001",), too_long=True),
    Text("4002-chars-of-one-word", "a" * 4002, must_mention=("4,002",), too_long=True),
    Text("10000-chars", _padded(_TAG_PREFIX, 10_000), must_mention=("10,000",), too_long=True),
    Text("25000-chars", "x" * 25_000, too_long=True),
    # Slack escapes every '&' as "&amp;": 1,000 typed ampersands arrive as 5,000 characters.
    Text("1000-escaped-ampersands", "&amp;" * 1000, too_long=False),
    Text("3999-char-word", "a" * 3999, too_long=False),
    Text("nul-in-name", f"{BACKUP} restored\x00index"),
    Text("nul-only", "\x00"),
    Text("ansi-escapes", f"{BACKUP} \x1b[31mrestored-index\x1b[0m env=\x1b]0;owned\x07prod"),
    Text("c0-and-c1-controls", f"{BACKUP} restored-index env=" + "".join(map(chr, range(1, 32))) + "\x7f\x85\x9b"),
    Text("crlf-inside-a-value", f"{BACKUP} restored-index env=pr\r\nod"),
    Text("crlf-header-injection", "list\r\nX-Injected: 1\r\n\r\n<!channel>"),
    Text("unbalanced-double-quote", f'{BACKUP} restored-index team="search infra', must_mention=("quote",)),
    Text("unbalanced-single-quote", f"{BACKUP} 'restored-index", must_mention=("quote",)),
    Text("lone-quote", '"'),
    Text("quotes-only", '"\'"\'"', must_mention=("quote",)),
    Text("emoji-in-name", f"{BACKUP} 🚀-index"),
    Text("emoji-shortcode-in-name", f"{BACKUP} :rocket:-index"),
    Text("emoji-in-tag-value", f"{BACKUP} restored-index env=🔥prod"),
    Text("emoji-in-tag-key", f"{BACKUP} restored-index 🔥=prod"),
    Text("zwj-emoji-sequence", f"{BACKUP} restored-index team=👩‍👩‍👧‍👦"),
    Text("arabic-name", f"{BACKUP} فهرس-الإنتاج"),
    Text("hebrew-tag", f"{BACKUP} restored-index צוות=חיפוש"),
    Text("rtl-override-in-name", f"{BACKUP} restored-\u202exedni"),
    Text("rtl-isolates-in-tag", f"{BACKUP} restored-index env=\u2067prod\u2069 \u202bteam=x"),
    Text("thousand-tags", f"{BACKUP} restored-index " + " ".join(f"k{i}=v" for i in range(1000)), too_long=True),
    Text("fifty-tags", f"{BACKUP} restored-index " + " ".join(f"k{i}=v" for i in range(50)), must_mention=("20",)),
    Text("html-escaped-channel-as-name", f"{BACKUP} &lt;!channel&gt;"),
    Text("channel-mention-as-name", f"{BACKUP} <!channel>"),
    Text("channel-mention-alone", "<!channel>"),
    Text("here-mention-as-value", f"{BACKUP} restored-index env=<!here>"),
    Text("user-mention-as-value", f"{BACKUP} restored-index owner=<@U123>"),
    Text("escaped-user-mention-as-value", f"{BACKUP} restored-index owner=<@{USER}|alice>"),
    Text("channel-link-as-value", f"{BACKUP} restored-index where=<#{CHANNEL}|restores>"),
    Text("link-as-name", f"{BACKUP} <https://evil.example/|click-me>"),
    Text("mention-in-status", "status <!everyone>"),
    Text("smart-quotes-unbalanced", f"{BACKUP} restored-index team=“search infra"),
    Text("smart-quotes-around-a-bad-name", f"“{BACKUP}” “Restored Index”"),
    Text("name-of-46-chars", f"{BACKUP} {'a' * 46}", must_mention=("45",)),
    Text("valid-then-shell", f"{BACKUP} restored-index env=prod ; rm -rf / && echo"),
    Text("valid-then-sql", f"{BACKUP} restored-index env=prod' OR '1'='1"),
    Text("valid-then-unknown-flag", f"{BACKUP} restored-index --deletion-protection --yes-really"),
    Text("valid-then-template", f"{BACKUP} restored-index env=${{jndi:ldap://x/a}} {{0}} %s%n"),
    Text("valid-then-nul", f"{BACKUP} restored-index env=prod\x00"),
    Text("invalid-utf8-percent-encoded", "", raw_form_value="%FF%FE%ED%A0%80%C0%AF"),
]


def check_answer(case: Text, command: Command) -> list[str]:
    """What is wrong with the bot's answer to `case`, as sentences naming the input."""
    problems: list[str] = []
    response = command.response
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.text[:300]!r}"]
    try:
        ack = command.ack
    except ValueError:
        return [f"the answer is not JSON: {response.text[:300]!r}"]
    text = str(ack.get("text") or "")
    everything = "\n".join(strings_in(ack))
    if ack.get("response_type", "ephemeral") != "ephemeral":
        problems.append(f"not ephemeral: response_type={ack.get('response_type')!r}")
    if not SENTENCE.search(text):
        problems.append(f"no human sentence in the answer: {ack!r:.300}")
    for word in ("Traceback", "Exception", 'File "'):
        if word in everything:
            problems.append(f"{word!r} in the answer")
    if "Checking backup" in everything:
        problems.append("the command was accepted")
    for markup in LIVE_MARKUP:
        if markup in everything:
            problems.append(f"live Slack markup {markup!r} echoed unescaped")
    if raw := raw_control_chars(everything):
        problems.append(f"raw control characters echoed: {', '.join(raw)}")
    for block in ack.get("blocks") or []:
        section = (block.get("text") or {}).get("text", "")
        if len(section) > SECTION_LIMIT:
            problems.append(f"a section of {len(section)} characters, over Slack's {SECTION_LIMIT}")
    if len(ack.get("blocks") or []) > 50:
        problems.append("more than 50 blocks")
    for fragment in case.must_mention:
        if fragment not in text:
            problems.append(f"does not mention {fragment!r}")
    if case.too_long is True and not (LIMIT_SENTENCE in text and "Shorten" in text):
        problems.append("not refused as too long (no 'at most 4,000 characters' ... 'Shorten')")
    if case.too_long is False and LIMIT_SENTENCE in text:
        problems.append("refused as too long although it fits")
    return problems


async def send_text(bot: BotProcess, case: Text) -> Command:
    if case.raw_form_value is None:
        return await bot.command(case.text)
    body, response_url = bot.command_body("")
    assert "&text=&" in body
    body = body.replace("&text=&", f"&text={case.raw_form_value}&")
    return Command(response=await bot.post(body, content_type=FORM), response_url=response_url)


async def test_any_command_text_gets_a_clear_private_answer_and_nothing_else(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.add_backup(BACKUP)
    failures: list[str] = []
    response_urls: list[str] = []
    for case in HOSTILE_TEXTS:
        command = await send_text(bot, case)
        response_urls.append(command.response_url)
        failures += [f"{case.id} ({case.text[:60]!r}): {problem}" for problem in check_answer(case, command)]
    assert not failures, "hostile command text got a bad answer:\n" + "\n".join(failures)
    assert_nothing_done(pinecone, slack, bot, response_urls)
    await assert_still_serves_and_never_crashed(bot)


# ------------------------------------------------------------------------------------------------
# 2. Malformed or unknown payloads, properly signed
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    id: str
    body: bytes
    content_type: str | None = FORM


def _trigger_id() -> str:
    return f"{uuid.uuid4().int % 10**12}.0.{uuid.uuid4().hex[:16]}"


def _payload(data: Any) -> bytes:
    return urlencode({"payload": json.dumps(data)}).encode()


def hostile_payloads(response_url: str) -> list[Raw]:
    """Bodies shaped like Slack's (https://api.slack.com/reference/interaction-payloads) but for nothing the bot has."""
    team = {"id": "T0TEST", "domain": "example"}
    user = {"id": USER, "username": "alice", "name": "alice", "team_id": "T0TEST"}
    block_actions = {
        "type": "block_actions",
        "team": team,
        "user": user,
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": _trigger_id(),
        "channel": {"id": CHANNEL, "name": "restores"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "hello", "user": "U0BOT"},
        "state": {"values": {}},
        "response_url": response_url,
        "is_enterprise_install": False,
        "enterprise": None,
        "actions": [
            {
                "type": "button",
                "action_id": "restore_everything_now",
                "block_id": "made-up",
                "text": {"type": "plain_text", "text": "Restore"},
                "value": f"{BACKUP} restored-index",
                "action_ts": "1700000001.000200",
            }
        ],
    }
    view_submission = {
        "type": "view_submission",
        "team": team,
        "user": user,
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "trigger_id": _trigger_id(),
        "view": {
            "id": "V0UNKNOWN1",
            "team_id": "T0TEST",
            "type": "modal",
            "callback_id": "restore_modal_that_does_not_exist",
            "private_metadata": json.dumps({"backup_id": BACKUP, "index_name": "restored-index"}),
            "blocks": [],
            "state": {"values": {"b": {"index_name": {"type": "plain_text_input", "value": "restored-index"}}}},
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Restore"},
            "submit": {"type": "plain_text", "text": "Restore"},
            "app_id": "A0RESTORE",
            "bot_id": "B0BOT",
            "root_view_id": "V0UNKNOWN1",
            "previous_view_id": None,
            "external_id": "",
        },
        "response_urls": [{"block_id": "b", "action_id": "a", "channel_id": CHANNEL, "response_url": response_url}],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    unknown_type = {**block_actions, "type": "block_suggestion_v9", "trigger_id": _trigger_id()}
    unsubscribed_event = {
        "token": "deprecated-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0RESTORE",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": USER, "reaction": "fire", "item": {"type": "message"}},
    }
    other_command = urlencode(
        {
            "command": "/drop-all-indexes",
            "text": "now",
            "user_id": USER,
            "channel_id": CHANNEL,
            "response_url": response_url,
        }
    ).encode()
    return [
        Raw("payload-not-json", b"payload=" + quote("{not json").encode()),
        Raw("payload-empty", b"payload="),
        Raw("payload-json-array", _payload([1, 2, 3])),
        Raw("payload-json-string", _payload("block_actions")),
        Raw("payload-json-null", _payload(None)),
        Raw("payload-unknown-type", _payload(unknown_type)),
        Raw("payload-without-type", _payload({"team": team, "user": user})),
        Raw(
            "payload-fields-of-the-wrong-type",
            _payload({"type": "block_actions", "user": 7, "team": [], "actions": "x"}),
        ),
        Raw("block-actions-unknown-action-id", _payload(block_actions)),
        Raw("view-submission-unknown-callback-id", _payload(view_submission)),
        Raw("unknown-slash-command", other_command),
        Raw(
            "json-object-not-an-event",
            b'{"hello": "world", "response_url": "' + response_url.encode() + b'"}',
            "application/json",
        ),
        Raw("json-array", b"[1, 2, 3]", "application/json"),
        Raw("json-string", b'"event_callback"', "application/json"),
        Raw("json-null", b"null", "application/json"),
        Raw("json-truncated", b'{"type": "event_callback", "event": {', "application/json"),
        Raw("json-unsubscribed-event", json.dumps(unsubscribed_event).encode(), "application/json"),
        Raw("empty-form-body", b""),
        Raw("empty-json-body", b"", "application/json"),
        Raw("no-content-type", b"hello=world&payload_of_nothing=1", None),
        Raw("not-utf8-form", b"command=/restore-index&text=\xff\xfe\xfa\x80 restored-index", FORM),
        Raw("not-utf8-json", b'{"type": "\xff\xfe"}', "application/json"),
        Raw("latin1-declared-charset", "text=caf\u00e9".encode("latin-1"), f"{FORM}; charset=latin-1"),
    ]


def sign_bytes(data: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's v0 signature over raw bytes (the harness's `sign` takes text)."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + data, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


async def post_bytes(
    bot: BotProcess, data: bytes, *, content_type: str | None, headers: Mapping[str, str]
) -> httpx.Response:
    all_headers = {**({"Content-Type": content_type} if content_type else {}), **headers}
    async with httpx.AsyncClient(base_url=bot.url, timeout=10.0) as client:
        return await client.post("/slack/events", content=data, headers=all_headers)


async def test_malformed_or_unknown_payloads_are_refused_or_ignored_never_a_500(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.add_backup(BACKUP)
    response_url = slack.new_response_url()
    failures: list[str] = []
    answered = 0
    for case in hostile_payloads(response_url):
        response = await post_bytes(bot, case.body, content_type=case.content_type, headers=sign_bytes(case.body))
        named = f"{case.id} ({case.body[:80]!r})"
        ok = response.status_code == 200 or 400 <= response.status_code < 500
        if not ok:
            failures.append(f"{named}: HTTP {response.status_code} {response.text[:200]!r}")
        elif response.status_code == 200 and response.content.strip() not in (b"", b"{}", b"ok"):
            failures.append(f"{named}: 200 with something in it: {response.text[:200]!r}")
        if posted := response_posts(slack, response_url)[answered:]:
            failures.append(f"{named}: posted to the response_url: {posted}")
        answered = len(response_posts(slack, response_url))
    assert not failures, "malformed payloads were not refused cleanly:\n" + "\n".join(failures)
    assert_nothing_done(pinecone, slack, bot, [response_url])
    await assert_still_serves_and_never_crashed(bot)


# ------------------------------------------------------------------------------------------------
# 3. Unverified requests
# ------------------------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


# Header sets that must not get a body past verification, each given the body it goes with.
UNVERIFIED: dict[str, Callable[[str], dict[str, str]]] = {
    "no-signature-headers": lambda body: {},
    "missing-timestamp-header": lambda body: {"X-Slack-Signature": sign(body)["X-Slack-Signature"]},
    "missing-signature-header": lambda body: {"X-Slack-Request-Timestamp": str(_now())},
    "empty-signature": lambda body: {**sign(body), "X-Slack-Signature": ""},
    "zero-signature": lambda body: {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64},
    "garbage-signature": lambda body: {**sign(body), "X-Slack-Signature": "not even a signature"},
    "wrong-secret": lambda body: sign(body, secret="not-the-signing-secret"),
    "six-minutes-old": lambda body: sign(body, timestamp=_now() - 6 * 60),
    "six-minutes-in-the-future": lambda body: sign(body, timestamp=_now() + 6 * 60),
    "signed-over-a-different-body": lambda body: sign(body.replace("restored-index", "another-index")),
    # Signed correctly, but over a timestamp that is not a whole number of seconds.
    "non-numeric-timestamp": lambda body: sign_bytes(body.encode(), timestamp="yesterday"),
    "fractional-timestamp": lambda body: sign_bytes(body.encode(), timestamp=f"{_now()}.5"),
    "empty-timestamp": lambda body: sign_bytes(body.encode(), timestamp=""),
    "huge-timestamp": lambda body: sign_bytes(body.encode(), timestamp="9" * 40),
}


# Bodies the bot cannot even parse, sent with no signature at all.
UNSIGNED_GARBAGE: list[Raw] = [
    Raw("payload-not-json", b"payload=%7Bnot%20json"),
    Raw("json-array", b"[1, 2, 3]", "application/json"),
    Raw("not-utf8", b"command=/restore-index&text=\xff\xfe", FORM),
]


async def test_unverified_requests_get_401_and_do_nothing(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.add_backup(BACKUP)
    failures: list[str] = []
    response_urls: list[str] = []
    for name, headers_for in UNVERIFIED.items():
        # A fresh body (trigger_id, response_url) for each, so a repeat is never what stops it.
        body, response_url = bot.command_body(f"{BACKUP} restored-index env=prod")
        response_urls.append(response_url)
        headers = headers_for(body)
        response = await bot.post(body, content_type=FORM, headers=headers)
        if response.status_code != 401:
            failures.append(f"{name} {headers}: HTTP {response.status_code} {response.text[:200]!r}")
        if posted := response_posts(slack, response_url):
            failures.append(f"{name}: the bot posted to the unverified body's response_url: {posted}")
    for raw in UNSIGNED_GARBAGE:
        response = await post_bytes(bot, raw.body, content_type=raw.content_type, headers={})
        if not 400 <= response.status_code < 500:
            failures.append(f"unsigned {raw.id} ({raw.body!r}): HTTP {response.status_code} {response.text[:200]!r}")
    assert not failures, "unverified requests were not refused:\n" + "\n".join(failures)
    assert_nothing_done(pinecone, slack, bot, response_urls)
    await assert_still_serves_and_never_crashed(bot)


# ------------------------------------------------------------------------------------------------
# 4. All of it against one bot, which still serves afterwards
# ------------------------------------------------------------------------------------------------


async def test_one_bot_takes_every_hostile_request_in_a_row_and_still_serves(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.add_backup(BACKUP)
    statuses: dict[str, int] = {}
    response_urls: list[str] = []
    for case in HOSTILE_TEXTS:
        command = await send_text(bot, case)
        response_urls.append(command.response_url)
        statuses[f"text {case.id}"] = command.response.status_code
    response_url = slack.new_response_url()
    response_urls.append(response_url)
    for raw in hostile_payloads(response_url):
        response = await post_bytes(bot, raw.body, content_type=raw.content_type, headers=sign_bytes(raw.body))
        statuses[f"payload {raw.id}"] = response.status_code
    for name, headers_for in UNVERIFIED.items():
        body, command_url = bot.command_body(f"{BACKUP} restored-index")
        response_urls.append(command_url)
        statuses[f"unverified {name}"] = (
            await bot.post(body, content_type=FORM, headers=headers_for(body))
        ).status_code
    for raw in UNSIGNED_GARBAGE:
        statuses[f"unsigned {raw.id}"] = (
            await post_bytes(bot, raw.body, content_type=raw.content_type, headers={})
        ).status_code
    server_errors = {name: status for name, status in statuses.items() if status >= 500}
    assert server_errors == {}, f"server errors: {server_errors}"
    assert_nothing_done(pinecone, slack, bot, response_urls)
    await assert_still_serves_and_never_crashed(bot)
