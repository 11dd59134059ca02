"""HTTP test fakes for restore-bot: real loopback servers the bot process talks to.

* :mod:`tests.fakes.pinecone_emulator` -- Pinecone control plane, validated against the vendored
  OpenAPI spec (``tests/pinecone_spec``).
* :mod:`tests.fakes.slack_api` -- Slack Web API stand-in with Block Kit limits and response_url.
* :mod:`tests.fakes.fixtures` -- the ``pinecone`` and ``slack`` pytest fixtures.

Kept import-free so that importing ``tests.fakes`` stays cheap for tests that need none of it.
"""
