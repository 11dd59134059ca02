"""The one sentence a requester sees for each way Pinecone can refuse or fail a restore request."""

from __future__ import annotations

from bot.core.pinecone_failures import PineconeFailure, PineconeFailureFacts


def explain(error: PineconeFailureFacts, *, backup_id: str, index_name: str) -> str:
    """The one sentence the requester sees for a failure of a restore request."""
    match error.failure:
        case PineconeFailure.BACKUP_NOT_READY:
            return (
                f"Backup `{backup_id}` is not ready to restore yet ({error.detail}). "
                "Wait until its status is Ready, then try again."
            )
        case PineconeFailure.NOT_FOUND:
            return (
                f"Pinecone has no backup with ID `{backup_id}` in this project. "
                "Check the ID (Pinecone console → Backups) and try again."
            )
        case PineconeFailure.NAME_TAKEN:
            return (
                f"An index named `{index_name}` already exists in this project. "
                "Pick another target name, or delete the existing index first."
            )
        case PineconeFailure.BAD_REQUEST:
            return f"Pinecone refused the request: {error.detail}"
        case PineconeFailure.BAD_API_KEY:
            return (
                "Pinecone rejected the bot's API key. An admin needs to check the `PINECONE_API_KEY` "
                "setting of restore-bot; nothing was restored."
            )
        case PineconeFailure.PAYMENT_REQUIRED:
            return (
                "Pinecone refused the restore because the organisation has unpaid invoices "
                f"({error.detail}). Ask a Pinecone organisation owner to settle them."
            )
        case PineconeFailure.FORBIDDEN:
            return (
                "Pinecone refused the restore: the project is over its quota or the bot's API key lacks "
                f"permission ({error.detail}). Free up quota or ask an admin to grant access, then try again."
            )
        case PineconeFailure.RATE_LIMITED:
            return "Pinecone is rate limiting the bot right now. Nothing was restored; try again in a minute."
        case PineconeFailure.UNAVAILABLE:
            return (
                "Pinecone is unavailable right now and nothing was restored. "
                "Try again in a few minutes; check status.pinecone.io if it persists."
            )
    return f"Pinecone returned an unexpected error ({error}). Nothing was restored."
