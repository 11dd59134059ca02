"""Every way a Pinecone call can fail, as one tree, and what each means to the requester.

    PineconeError
    ├── PineconeUnreachable        no HTTP answer: connect error, timeout, dropped connection
    └── PineconeAPIError           an HTTP error answer (status, code, message from ErrorResponse)
        ├── BadRequest             400 / 422: Pinecone refused the arguments
        │   └── BackupNotReady     400 FAILED_PRECONDITION: the backup cannot be restored yet
        ├── Unauthenticated        401: the API key was rejected
        ├── PaymentRequired        402: the organisation is delinquent on payment
        ├── Forbidden              403: quota exceeded or the key lacks a permission
        ├── NotFound               404: backup, restore job or index does not exist
        ├── AlreadyExists          409: an index with that name already exists
        ├── RateLimited            429: slow down (carries Retry-After)
        └── ServerError            5xx: Pinecone had a problem

`is_transient` says which are worth retrying for a read. For create-index, `is_ambiguous`
says when the request may have been applied although no success came back: the caller must
look before it tries again.  `explain` turns any of them into the one sentence a requester sees.
"""

from __future__ import annotations

import httpx


class PineconeError(Exception):
    """Base of every Pinecone failure."""


class PineconeUnreachable(PineconeError):
    """No HTTP answer came back (connection refused or reset, timeout)."""


class PineconeAPIError(PineconeError):
    """Pinecone answered with an error status."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class BadRequest(PineconeAPIError):
    pass


class BackupNotReady(BadRequest):
    pass


class Unauthenticated(PineconeAPIError):
    pass


class PaymentRequired(PineconeAPIError):
    pass


class Forbidden(PineconeAPIError):
    pass


class NotFound(PineconeAPIError):
    pass


class AlreadyExists(PineconeAPIError):
    pass


class RateLimited(PineconeAPIError):
    pass


class ServerError(PineconeAPIError):
    pass


_BY_STATUS: dict[int, type[PineconeAPIError]] = {
    400: BadRequest,
    401: Unauthenticated,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: AlreadyExists,
    412: BackupNotReady,
    422: BadRequest,
    429: RateLimited,
}


def error_for(status: int, code: str, message: str, retry_after: float | None = None) -> PineconeAPIError:
    """The exception class for an HTTP error answer."""
    if status == 400 and code == "FAILED_PRECONDITION":
        return BackupNotReady(status, code, message, retry_after)
    if status >= 500:
        return ServerError(status, code, message, retry_after)
    cls = _BY_STATUS.get(status, PineconeAPIError)
    return cls(status, code, message, retry_after)


def is_transient(error: BaseException) -> bool:
    """Worth retrying a read: nothing answered, we were rate limited, or Pinecone failed."""
    return isinstance(error, PineconeUnreachable | RateLimited | ServerError)


def is_ambiguous(error: BaseException) -> bool:
    """A write may have been applied even though no success came back."""
    return isinstance(error, PineconeUnreachable | ServerError)


def transport_error(error: httpx.TransportError) -> PineconeUnreachable:
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "could not be reached"
    return PineconeUnreachable(f"Pinecone {kind} ({type(error).__name__})")


def explain(error: PineconeError, *, backup_id: str, index_name: str) -> str:
    """The one sentence the requester sees for a failure of a restore request."""
    if isinstance(error, BackupNotReady):
        return (
            f"Backup `{backup_id}` is not ready to restore yet ({error.message}). "
            "Wait until its status is Ready, then try again."
        )
    if isinstance(error, NotFound):
        return (
            f"Pinecone has no backup with ID `{backup_id}` in this project. "
            "Check the ID (Pinecone console → Backups) and try again."
        )
    if isinstance(error, AlreadyExists):
        return (
            f"An index named `{index_name}` already exists in this project. "
            "Pick another target name, or delete the existing index first."
        )
    if isinstance(error, BadRequest):
        return f"Pinecone refused the request: {error.message}"
    if isinstance(error, Unauthenticated):
        return (
            "Pinecone rejected the bot's API key. An admin needs to check the `PINECONE_API_KEY` "
            "setting of restore-bot; nothing was restored."
        )
    if isinstance(error, PaymentRequired):
        return (
            "Pinecone refused the restore because the organisation has unpaid invoices "
            f"({error.message}). Ask a Pinecone organisation owner to settle them."
        )
    if isinstance(error, Forbidden):
        return (
            "Pinecone refused the restore: the project is over its quota or the bot's API key lacks "
            f"permission ({error.message}). Free up quota or ask an admin to grant access, then try again."
        )
    if isinstance(error, RateLimited):
        return "Pinecone is rate limiting the bot right now. Nothing was restored; try again in a minute."
    if isinstance(error, ServerError | PineconeUnreachable):
        return (
            "Pinecone is unavailable right now and nothing was restored. "
            "Try again in a few minutes; check status.pinecone.io if it persists."
        )
    return f"Pinecone returned an unexpected error ({error}). Nothing was restored."
