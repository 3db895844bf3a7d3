"""API keys and roles (SPEC §8.4): anonymous < analyst < admin, keys stored hashed, sent as
`Authorization: Bearer KEY` or as HTTP Basic with the key as the password (SPEC §8.1).

A key is `lgk_` + 32 random bytes (urlsafe base64). Only its SHA-256 is stored (as a
`landgis_records` document of kind `api_key`, keyed by the key's name), so a copy of the store
does not hand out working keys. Keys carry 256 bits of entropy, so a plain fast hash cannot be
brute-forced and no salt or slow KDF is needed; lookups are a dict hit on the hash, which keeps
authentication off the hot path's profile. Revocation marks the document; the in-process key
ring re-reads the documents every few seconds, so a revoked key stops working within
`KeyRing.ttl` seconds in every server process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from gis.errors import InputError, NotFoundError
from gis.store import Store
from gis.store.base import now_iso

KIND = "api_key"
ROLES = ("analyst", "admin")
RANK = {"anonymous": 0, "analyst": 1, "admin": 2}
ROLE_ZH = {"anonymous": "匿名", "analyst": "分析人员", "admin": "管理员"}
KEY_PREFIX = "lgk_"


@dataclass(frozen=True)
class Principal:
    name: str | None
    role: str

    def has(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


ANONYMOUS = Principal(None, "anonymous")


class AuthError(Exception):
    """401 (no or bad credentials) or 403 (valid key, too small a role); Chinese detail."""

    def __init__(self, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(detail)

    def add_challenges(self, headers) -> None:
        """On a 401, one `WWW-Authenticate` line per scheme (RFC 9110 §11.6.1), so a browser or
        QGIS asks for the user name and password and retries with Basic."""
        if self.status == 401:
            for challenge in CHALLENGES:
                headers.append("WWW-Authenticate", challenge)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.@\-\u4e00-\u9fff]{1,64}", name or ""):
        raise InputError(f"密钥名称“{name}”不合法。", hint="名称由 1–64 个字母、数字、汉字或 _ . @ - 组成，如 zhang.san。")
    return name


def add_key(store: Store, name: str, role: str, *, user: str) -> str:
    """Create a key for `name` with `role`; returns the key (shown once, never stored)."""
    _check_name(name)
    if role not in ROLES:
        raise InputError(f"角色“{role}”不存在。", hint="角色只能是 analyst（分析人员）或 admin（管理员）。")
    existing = store.get_records(KIND).get(name)
    if existing and not existing.get("revoked"):
        raise InputError(f"名为“{name}”的密钥已存在。", hint=f"如需更换，请先执行 landgis keys revoke {name}。")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    store.put_record(KIND, name, {"hash": hash_key(key), "role": role, "created_at": now_iso(), "revoked": False, "hint": key[:8]}, user=user)
    KeyRing.invalidate()
    return key


def list_keys(store: Store) -> list[dict]:
    """Name, role, creation time and status of every key (never the hash)."""
    out = []
    for name, doc in store.get_records(KIND).items():
        out.append({"name": name, "role": doc.get("role"), "created_at": doc.get("created_at"), "revoked": bool(doc.get("revoked")), "revoked_at": doc.get("revoked_at"), "hint": doc.get("hint")})
    return out


def revoke_key(store: Store, name: str, *, user: str, reason: str | None = None) -> None:
    doc = store.get_records(KIND).get(name)
    if doc is None:
        raise NotFoundError(f"没有名为“{name}”的密钥。")
    if doc.get("revoked"):
        return
    store.put_record(KIND, name, {**doc, "revoked": True, "revoked_at": now_iso(), "reason": reason or "revoked"}, user=user)
    KeyRing.invalidate()


class KeyRing:
    """hash → Principal for live keys, re-read from the store at most every `ttl` seconds."""

    ttl = 5.0
    _lock = threading.Lock()
    _rings: dict[str, tuple[float, dict[str, Principal]]] = {}

    @classmethod
    def invalidate(cls) -> None:
        with cls._lock:
            cls._rings.clear()

    @classmethod
    def lookup(cls, store: Store, key: str) -> Principal | None:
        now = time.monotonic()
        hit = cls._rings.get(store.url)
        if hit is None or now - hit[0] > cls.ttl:
            ring = {doc["hash"]: Principal(name, doc.get("role", "analyst")) for name, doc in store.get_records(KIND).items() if not doc.get("revoked") and doc.get("hash")}
            with cls._lock:
                cls._rings[store.url] = (now, ring)
            hit = (now, ring)
        return hit[1].get(hash_key(key))


CHALLENGES = ('Bearer realm="landgis"', 'Basic realm="landgis", charset="UTF-8"')
"""The `WWW-Authenticate` challenges of every 401, Bearer first (API clients), then Basic: a
browser, QGIS's Basic auth config, GDAL (`GDAL_HTTP_USERPWD`) and OWSLib answer Basic."""
HOW_TO_AUTH = "请提供 API 密钥：Authorization: Bearer <密钥>，或 HTTP Basic 认证（用户名任意，密码为密钥）"


def key_from_header(authorization: str) -> str:
    """The API key an `Authorization` header carries: `Bearer KEY`, or HTTP Basic with the key
    as the password and any user name (RFC 7617: base64 of `user:password`, UTF-8).

    Why Basic too: stock QGIS (Debian's 3.22 has no custom-header auth), GDAL
    (`GDAL_HTTP_USERPWD=x:KEY`), OWSLib and browsers all send Basic, and nothing else."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    scheme = scheme.lower()
    if scheme == "bearer" and token:
        return token
    if scheme == "basic" and token:
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise AuthError(401, "HTTP Basic 认证信息无法解码（应为“用户名:密码”的 Base64）。用户名任意，密码填写 API 密钥。") from None
        _, colon, password = decoded.partition(":")
        if not colon or not password:
            raise AuthError(401, "HTTP Basic 认证缺少密码。用户名任意，密码填写 API 密钥（lgk_ 开头）。")
        return password
    raise AuthError(401, f"认证信息格式有误。{HOW_TO_AUTH}。")


def principal_from_header(store: Store, authorization: str | None) -> Principal:
    """Anonymous without a header; a known key's principal; AuthError(401) for anything else.
    Bearer and Basic carry the same key: same lookup, same hash, same roles."""
    if not authorization:
        return ANONYMOUS
    token = key_from_header(authorization)
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        raise AuthError(401, "API 密钥无效。请向管理员索取有效密钥（landgis keys add）。")
    p = KeyRing.lookup(store, token)
    if p is None:
        raise AuthError(401, "API 密钥无效或已被吊销。请向管理员索取有效密钥。")
    return p


def require(principal: Principal, role: str, what: str) -> None:
    """401 for anonymous callers, 403 for a valid key whose role is too small."""
    if principal.has(role):
        return
    if principal.role == "anonymous":
        raise AuthError(401, f"{what}需要“{ROLE_ZH[role]}”（{role}）权限。{HOW_TO_AUTH}。")
    raise AuthError(403, f"当前密钥“{principal.name}”的角色为{ROLE_ZH[principal.role]}（{principal.role}），{what}需要{ROLE_ZH[role]}（{role}）权限。")
