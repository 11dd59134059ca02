"""HTTP test fakes for restore-bot: real loopback servers the bot process talks to.

* :mod:`tests.fakes.pinecone_emulator` -- Pinecone control plane, validated against the vendored
  OpenAPI spec (``tests/pinecone_spec``).
* :mod:`tests.fakes.slack_api` -- Slack Web API stand-in with Block Kit limits and response_url.
* :mod:`tests.fakes.fixtures` -- the ``pinecone`` and ``slack`` pytest fixtures.
* :mod:`tests.fakes.clock` -- a wall clock and a monotonic clock that move only when a test says.
* :mod:`tests.fakes.workspace` -- the Slack IDs and signing secret every test tier shares.
* :mod:`tests.fakes.slack_requests` -- requests signed and shaped as Slack sends them; what the bot sent back.
* :mod:`tests.fakes.settings` -- settings for services built in the test process.
* :mod:`tests.fakes.ports` -- a free loopback port.

Kept import-free so that importing ``tests.fakes`` stays cheap for tests that need none of it.
"""
