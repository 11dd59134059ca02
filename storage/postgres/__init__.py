"""The PostgreSQL job store (asyncpg), for one or several bot processes on one database."""
