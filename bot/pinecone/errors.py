"""Every way a Pinecone call can fail, as one tree, and what each means to the requester.

    PineconeError
    ├── PineconeUnreachable        no HTTP answer: connect error, timeout, dropped connection
    └── PineconeAPIError           an HTTP error answer (status, code, message from ErrorResponse)
        ├── BadRequest             400 / 422: Pinecone refused the arguments (or a list's page token)
        │   └── BackupNotReady     412 FAILED_PRECONDITION (400 before 2026-07): the backup is not Ready
        ├── Unauthenticated        401: the API key was rejected (a plain-text body in 2026-07)
        ├── PaymentRequired        402: the organisation is delinquent on payment
        ├── Forbidden              403: quota exceeded or the key lacks a permission (also on reads)
        ├── NotFound               404: backup, restore job or index does not exist
        ├── AlreadyExists          409: an index with that name already exists
        ├── RateLimited            429: slow down (carries Retry-After)
        └── ServerError            5xx: Pinecone had a problem

`is_transient` says which are worth retrying for a read. For create-index, `is_ambiguous`
says when the request may have been applied although no success came back: the caller must
look before it tries again. Exceptions carry data, not prose: each class names its `failure`
kind, and the core turns that into the one sentence a requester sees
(bot/core/render/pinecone_sentences.py).
"""

from __future__ import annotations

import httpx

from bot.core.pinecone_failures import PineconeFailure


class PineconeError(Exception):
    """Base of every Pinecone failure."""

    failure = PineconeFailure.UNEXPECTED

    @property
    def detail(self) -> str:
        """Pinecone's own message for an error answer; what went wrong otherwise."""
        return str(self)


class PineconeUnreachable(PineconeError):
    """No HTTP answer came back (connection refused or reset, timeout)."""

    failure = PineconeFailure.UNAVAILABLE


class PineconeAPIError(PineconeError):
    """Pinecone answered with an error status."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def detail(self) -> str:
        return self.message


class BadRequest(PineconeAPIError):
    failure = PineconeFailure.BAD_REQUEST


class BackupNotReady(BadRequest):
    failure = PineconeFailure.BACKUP_NOT_READY


class Unauthenticated(PineconeAPIError):
    failure = PineconeFailure.BAD_API_KEY


class PaymentRequired(PineconeAPIError):
    failure = PineconeFailure.PAYMENT_REQUIRED


class Forbidden(PineconeAPIError):
    failure = PineconeFailure.FORBIDDEN


class NotFound(PineconeAPIError):
    failure = PineconeFailure.NOT_FOUND


class AlreadyExists(PineconeAPIError):
    failure = PineconeFailure.NAME_TAKEN


class RateLimited(PineconeAPIError):
    failure = PineconeFailure.RATE_LIMITED


class ServerError(PineconeAPIError):
    failure = PineconeFailure.UNAVAILABLE


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
