"""restore-bot: restore Pinecone indexes from backups, driven from Slack."""
