"""Pinecone control-plane client, its wire models and its error tree (API version 2026-07)."""

from bot.pinecone.client import API_VERSION, PineconeClient
from bot.pinecone.errors import (
    AlreadyExists,
    BackupNotReady,
    BadRequest,
    Forbidden,
    NotFound,
    PaymentRequired,
    PineconeAPIError,
    PineconeError,
    PineconeUnreachable,
    RateLimited,
    ServerError,
    Unauthenticated,
)

__all__ = [
    "API_VERSION",
    "AlreadyExists",
    "BackupNotReady",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "PaymentRequired",
    "PineconeAPIError",
    "PineconeClient",
    "PineconeError",
    "PineconeUnreachable",
    "RateLimited",
    "ServerError",
    "Unauthenticated",
]
