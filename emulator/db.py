"""SQLite storage: application keys, activations, temporary keys, tokens, operations.

All access happens on the event loop thread: each query touches a few rows
of a local file and takes microseconds, and a handler that reads and writes
without awaiting in between is atomic (the signature counter relies on it).
No executor, so no threads are left behind. WAL journaling keeps commits
cheap; the file survives restarts.
"""

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from .records import Activation, Operation, TemporaryKeyRecord, TokenRecord

DB_FILE_NAME: Final = "emulator.db"
#: Status codes stored for activations (mtoken.status.ActivationStatus values).
STATUS_CREATED: Final = 1
#: The most operations a list or history answer carries (mobile-token-api.md section 7).
MAX_LISTED_OPERATIONS: Final = 100

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS activations (
    activation_id TEXT PRIMARY KEY,
    activation_code TEXT NOT NULL UNIQUE,
    code_signature TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    commit_mode TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    max_failed_attempts INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    counter INTEGER NOT NULL DEFAULT 0,
    ctr_data BLOB,
    name TEXT,
    platform TEXT,
    device_info TEXT,
    device_public_key BLOB,
    server_private_key BLOB,
    server_public_key BLOB,
    possession_key BLOB,
    knowledge_key BLOB,
    biometry_key BLOB,
    transport_key BLOB,
    vault_key BLOB,
    protocol_version INTEGER NOT NULL DEFAULT 3,
    algorithm TEXT,
    utility_keys BLOB,
    device_mldsa_key BLOB,
    server_mldsa_seed BLOB
);
CREATE TABLE IF NOT EXISTS temporary_keys (
    key_id TEXT PRIMARY KEY,
    app_key TEXT NOT NULL,
    activation_id TEXT,
    private_key BLOB NOT NULL,
    expires_ms INTEGER NOT NULL,
    version TEXT NOT NULL DEFAULT '3.3'
);
CREATE TABLE IF NOT EXISTS seen_values (value TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_values_expiry ON seen_values (expires_ms);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    token_secret BLOB NOT NULL,
    activation_id TEXT NOT NULL,
    signature_type TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    user_id TEXT,
    activation_id TEXT,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    allowed_factors TEXT NOT NULL,
    max_failures INTEGER NOT NULL,
    failure_count INTEGER NOT NULL DEFAULT 0,
    totp_seed BLOB,
    texts TEXT NOT NULL,
    ui TEXT,
    reject_reason TEXT,
    signature_type TEXT,
    demo INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS operations_user ON operations (user_id, seq);
CREATE TABLE IF NOT EXISTS offline_nonces (
    operation_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox_messages (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    type TEXT NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_user ON inbox_messages (user_id, seq);
CREATE TABLE IF NOT EXISTS push_devices (
    activation_id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    push_token TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
"""


#: Columns added after the first release, created in data directories that predate them.
_ADDED_COLUMNS: Final = (
    ("activations", "protocol_version", "INTEGER NOT NULL DEFAULT 3"),
    ("activations", "algorithm", "TEXT"),
    ("activations", "utility_keys", "BLOB"),
    ("activations", "device_mldsa_key", "BLOB"),
    ("activations", "server_mldsa_seed", "BLOB"),
    ("temporary_keys", "version", "TEXT NOT NULL DEFAULT '3.3'"),
)

_JSON_COLUMNS: Final = frozenset({"allowed_factors", "texts", "ui"})
_ACTIVATION_COLUMNS: Final = tuple(f.name for f in fields(Activation))
_OPERATION_COLUMNS: Final = tuple(f.name for f in fields(Operation))


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    """``INSERT OR REPLACE`` with named parameters; table and columns are constants."""
    names = ", ".join(columns)
    marks = ", ".join(f":{name}" for name in columns)
    return f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})"  # noqa: S608


_SAVE_ACTIVATION: Final = _upsert("activations", _ACTIVATION_COLUMNS)
_SAVE_OPERATION: Final = _upsert("operations", _OPERATION_COLUMNS)


def _to_row(record: Any) -> dict[str, Any]:
    row = asdict(record)
    for name in _JSON_COLUMNS & row.keys():
        row[name] = None if row[name] is None else json.dumps(row[name], ensure_ascii=False)
    return row


def _operation_from(row: sqlite3.Row) -> Operation:
    values = dict(row)
    for name in _JSON_COLUMNS:
        values[name] = None if values[name] is None else json.loads(values[name])
    values["demo"] = bool(values["demo"])
    return Operation(**values)


@dataclass
class Database:
    """The emulator's SQLite file and the few queries it needs."""

    path: Path
    _conn: sqlite3.Connection = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._add_missing_columns()
        self._conn.commit()

    def _add_missing_columns(self) -> None:
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @classmethod
    def open(cls, data_dir: Path) -> "Database":
        """Open (and create on first start) ``data_dir/emulator.db``."""
        return cls(data_dir / DB_FILE_NAME)

    def close(self) -> None:
        """Commit and close the file."""
        self._conn.commit()
        self._conn.close()

    def _write(self, sql: str, params: Any = ()) -> int:
        cursor = self._conn.execute(sql, params)
        self._conn.commit()
        return cursor.rowcount

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Any = ()) -> Iterator[sqlite3.Row]:
        return iter(self._conn.execute(sql, params).fetchall())

    # -- settings --------------------------------------------------------------

    def get_setting(self, name: str) -> str | None:
        """A stored setting (the application keys live here)."""
        row = self._one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    def set_setting(self, name: str, value: str) -> None:
        """Store a setting."""
        self._write("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))

    # -- activations -------------------------------------------------------------

    def save_activation(self, activation: Activation) -> None:
        """Insert or replace an activation row."""
        self._write(_SAVE_ACTIVATION, _to_row(activation))

    def get_activation(self, activation_id: str) -> Activation | None:
        """The activation with that id, if any."""
        row = self._one("SELECT * FROM activations WHERE activation_id = ?", (activation_id,))
        return None if row is None else Activation(**dict(row))

    def activation_by_code(self, code: str) -> Activation | None:
        """The activation an activation code was issued for."""
        row = self._one("SELECT * FROM activations WHERE activation_code = ?", (code,))
        return None if row is None else Activation(**dict(row))

    def unused_code_of(self, user_id: str) -> Activation | None:
        """A code issued for the user and not used yet (status CREATED)."""
        row = self._one(
            "SELECT * FROM activations WHERE user_id = ? AND status = ? ORDER BY created_ms DESC",
            (user_id, STATUS_CREATED),
        )
        return None if row is None else Activation(**dict(row))

    def activations(self, *, include_created: bool = False) -> list[Activation]:
        """Activations in creation order; codes never used are left out unless asked."""
        rows = self._all("SELECT * FROM activations ORDER BY created_ms, rowid")
        return [
            Activation(**dict(row))
            for row in rows
            if include_created or row["status"] != STATUS_CREATED
        ]

    # -- temporary keys and replay protection ------------------------------------

    def save_temporary_key(self, key: TemporaryKeyRecord, now_ms: int) -> None:
        """Store a temporary key, forgetting the expired ones."""
        self._conn.execute("DELETE FROM temporary_keys WHERE expires_ms < ?", (now_ms,))
        self._write(
            "INSERT INTO temporary_keys "
            "(key_id, app_key, activation_id, private_key, expires_ms, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                key.key_id,
                key.app_key,
                key.activation_id,
                key.private_key,
                key.expires_ms,
                key.version,
            ),
        )

    def get_temporary_key(self, key_id: str) -> TemporaryKeyRecord | None:
        """A temporary key by id (expired ones included: the caller checks)."""
        row = self._one("SELECT * FROM temporary_keys WHERE key_id = ?", (key_id,))
        return None if row is None else TemporaryKeyRecord(**dict(row))

    def first_use(self, value: str, *, expires_ms: int, now_ms: int) -> bool:
        """Remember ``value`` until ``expires_ms``; False when it was already seen."""
        self._conn.execute("DELETE FROM seen_values WHERE expires_ms < ?", (now_ms,))
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO seen_values (value, expires_ms) VALUES (?, ?)",
            (value, expires_ms),
        )
        self._conn.commit()
        return cursor.rowcount == 1

    # -- tokens --------------------------------------------------------------------

    def save_token(self, token: TokenRecord) -> None:
        """Store a new token."""
        self._write(
            "INSERT INTO tokens (token_id, token_secret, activation_id, signature_type, "
            "created_ms) VALUES (?, ?, ?, ?, ?)",
            (
                token.token_id,
                token.token_secret,
                token.activation_id,
                token.signature_type,
                token.created_ms,
            ),
        )

    def get_token(self, token_id: str) -> TokenRecord | None:
        """A token by id."""
        row = self._one("SELECT * FROM tokens WHERE token_id = ?", (token_id,))
        return None if row is None else TokenRecord(**dict(row))

    def delete_token(self, token_id: str, activation_id: str) -> bool:
        """Remove one token of an activation; False when it had no such token."""
        return (
            self._write(
                "DELETE FROM tokens WHERE token_id = ? AND activation_id = ?",
                (token_id, activation_id),
            )
            == 1
        )

    def delete_tokens_of(self, activation_id: str) -> None:
        """Remove every token of an activation (it was removed)."""
        self._write("DELETE FROM tokens WHERE activation_id = ?", (activation_id,))

    # -- operations ------------------------------------------------------------------

    def insert_operation(self, operation: Operation) -> Operation:
        """Store a new operation; its ``seq`` orders it after every older one."""
        row = self._one("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM operations")
        operation.seq = int(row["next"]) if row is not None else 1
        self.save_operation(operation)
        return operation

    def save_operation(self, operation: Operation) -> None:
        """Insert or replace an operation row."""
        self._write(_SAVE_OPERATION, _to_row(operation))

    def get_operation(self, operation_id: str) -> Operation | None:
        """An operation by id."""
        row = self._one("SELECT * FROM operations WHERE id = ?", (operation_id,))
        return None if row is None else _operation_from(row)

    def operations_of(self, user_id: str, *, status: str | None = None) -> list[Operation]:
        """The user's operations, newest first, at most MAX_LISTED_OPERATIONS."""
        if status is None:
            rows = self._all(
                "SELECT * FROM operations WHERE user_id = ? ORDER BY seq DESC LIMIT ?",
                (user_id, MAX_LISTED_OPERATIONS),
            )
        else:
            rows = self._all(
                "SELECT * FROM operations WHERE user_id = ? AND status = ? "
                "ORDER BY seq DESC LIMIT ?",
                (user_id, status, MAX_LISTED_OPERATIONS),
            )
        return [_operation_from(row) for row in rows]

    def expire_due(self, now_ms: int) -> None:
        """Apply expiry lazily: every PENDING operation past its expiry becomes EXPIRED."""
        self._write(
            "UPDATE operations SET status = 'EXPIRED' WHERE status = 'PENDING' AND expires_ms <= ?",
            (now_ms,),
        )

    def demo_operations(self) -> list[Operation]:
        """Operations the demo seeded."""
        return [_operation_from(r) for r in self._all("SELECT * FROM operations WHERE demo = 1")]

    def add_offline_nonce(self, operation_id: str, nonce: str, now_ms: int) -> None:
        """Remember the nonce of an offline QR code issued for an operation."""
        self._write(
            "INSERT INTO offline_nonces (operation_id, nonce, created_ms) VALUES (?, ?, ?)",
            (operation_id, nonce, now_ms),
        )

    def offline_nonces(self, operation_id: str, limit: int) -> list[str]:
        """The nonces of the newest offline QR codes of an operation."""
        rows = self._all(
            "SELECT nonce FROM offline_nonces WHERE operation_id = ? "
            "ORDER BY created_ms DESC, rowid DESC LIMIT ?",
            (operation_id, limit),
        )
        return [str(row["nonce"]) for row in rows]

    # -- push ------------------------------------------------------------------------

    def save_push_device(self, activation_id: str, platform: str, token: str, now_ms: int) -> None:
        """Store (or replace) the push token of an activation."""
        self._write(
            "INSERT OR REPLACE INTO push_devices (activation_id, platform, push_token, updated_ms) "
            "VALUES (?, ?, ?, ?)",
            (activation_id, platform, token, now_ms),
        )

    def push_device(self, activation_id: str) -> tuple[str, str] | None:
        """``(platform, token)`` registered for an activation."""
        row = self._one(
            "SELECT platform, push_token FROM push_devices WHERE activation_id = ?",
            (activation_id,),
        )
        return None if row is None else (str(row["platform"]), str(row["push_token"]))

    # -- inbox -----------------------------------------------------------------------

    def insert_message(self, message: dict[str, Any]) -> None:
        """Store a new inbox message (keys as the table's columns, without ``seq``)."""
        self._write(
            "INSERT INTO inbox_messages (id, seq, user_id, subject, summary, body, type, read, "
            "created_ms) VALUES (:id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM inbox_messages), "
            ":user_id, :subject, :summary, :body, :type, 0, :created_ms)",
            message,
        )

    def messages_of(
        self, user_id: str, *, offset: int, limit: int, only_unread: bool
    ) -> list[dict[str, Any]]:
        """A page of the user's messages, newest first."""
        unread = " AND read = 0" if only_unread else ""
        rows = self._all(
            "SELECT * FROM inbox_messages WHERE user_id = ?"  # noqa: S608 - constant fragment
            + unread
            + " ORDER BY seq DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [dict(row) for row in rows]

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        """A message by id."""
        row = self._one("SELECT * FROM inbox_messages WHERE id = ?", (message_id,))
        return None if row is None else dict(row)

    def mark_read(self, user_id: str, message_id: str | None = None) -> None:
        """Mark one message of the user read, or all of them."""
        if message_id is None:
            self._write("UPDATE inbox_messages SET read = 1 WHERE user_id = ?", (user_id,))
        else:
            self._write(
                "UPDATE inbox_messages SET read = 1 WHERE user_id = ? AND id = ?",
                (user_id, message_id),
            )

    def unread_count(self, user_id: str) -> int:
        """How many of the user's messages are unread."""
        row = self._one(
            "SELECT COUNT(*) AS n FROM inbox_messages WHERE user_id = ? AND read = 0", (user_id,)
        )
        return 0 if row is None else int(row["n"])
