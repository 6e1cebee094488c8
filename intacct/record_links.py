"""Links into Intacct's web UI, in both directions: which link a card shows for a record, and which
record a pasted link names.

Two shapes, and only these (README "Deep links"; Sage documents no URL scheme for its pages):

- `RECORD_URL`, the read-only field most objects have: `https://<host>/ia/acct/ur.phtml?.r=<token>`,
  where the token is opaque (Sage documents nothing about it) and the host is www.intacct.com or a
  pod such as www-p02.intacct.com (fylein/fyle-intacct-api, MIT, reads RECORD_URL back from
  Intacct, keeps the token after `?.r=` and rebuilds the URL from it; its test fixtures record such
  values). It cannot be decoded, so a pasted one is resolved only through what the poller saw:
  the record-link index keeps `r:<token>` for every record read with one.
- the list view our cards fall back to when a record has no RECORD_URL (and for a bill's vendor,
  known only by id): `{web_url}/ia/acct/lister.phtml?.it=<object>&.filter=<id>`, an undocumented
  best effort. Its key is `<object>:<id>` (`apbill:B-1001`, `appymt:77`, `vendor:V100`).

`link_keys_*` give the keys of a record exactly as the cards link it; `read_link` gives the key of
a URL (and, for a list link, the object and id, which can also be searched for live). Both go
through the same parsing, so a link a card showed always finds its record again.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from intacct.bills import Bill
from intacct.payments import Payment
from intacct.vendors import Vendor

RECORD_PAGE_PATH = "/ia/acct/ur.phtml"  # RECORD_URL's page, as fylein/fyle-intacct-api's recorded values have it
RECORD_TOKEN_PARAM = ".r"
DEFAULT_LIST_PATH = "/ia/acct/lister.phtml"
DEFAULT_OBJECT_PARAM = ".it"
DEFAULT_FILTER_PARAM = ".filter"
INTACCT_DOMAIN = "intacct.com"  # RECORD_URL hosts: www.intacct.com and pods like www-p02.intacct.com

MAX_LINK_LENGTH = 2048  # the manifest schema's bound on a link domain; far above any real RECORD_URL
MAX_TOKEN_LENGTH = 512
MAX_LIST_ID_LENGTH = 100  # Intacct ids are far shorter; a longer "id" is not one

TOKEN_PREFIX = "r:"

# record kind (cards' and events' word) → Intacct object, and the list page's spelling of it.
OBJECTS = {"bill": "APBILL", "payment": "APPYMT", "vendor": "VENDOR"}
LIST_OBJECTS = {"bill": "apbill", "payment": "appymt", "vendor": "vendor"}
_KIND_OF_LIST_OBJECT = {name: kind for kind, name in LIST_OBJECTS.items()}


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a link names: its index key, and for a list link the record kind and id it filters on."""

    key: str
    kind: str | None = None  # bill | payment | vendor (list links only)
    record_id: str | None = None  # bill number, payment RECORDNO or vendor id (list links only)


def record_token(record_url: str | None) -> str | None:
    """The opaque token of a RECORD_URL value, or None when it is not one."""
    target = read_link(record_url) if record_url else None
    return target.key[len(TOKEN_PREFIX):] if target is not None and target.key.startswith(TOKEN_PREFIX) else None


def list_id(record: Bill | Payment | Vendor) -> str:
    """The id a list-view link filters on: a bill's number (its RECORDNO when it has none), a
    payment's RECORDNO, a vendor's id."""
    if isinstance(record, Bill):
        return record.bill_number or str(record.record_no)
    if isinstance(record, Payment):
        return str(record.record_no)
    return record.vendor_id


def list_key(kind: str, record_id: str) -> str | None:
    """The index key of a list-view link to one record (None for an id no link can carry)."""
    kept = usable_list_id(record_id)
    return f"{LIST_OBJECTS[kind]}:{kept}" if kept is not None else None


def usable_list_id(record_id: str | None) -> str | None:
    """The id as a list link carries it (printable, trimmed, at most MAX_LIST_ID_LENGTH), or None."""
    if not record_id:
        return None
    kept = "".join(ch for ch in record_id if ch.isprintable()).strip()
    return kept if 0 < len(kept) <= MAX_LIST_ID_LENGTH else None


def link_keys_bill(bill: Bill) -> tuple[str, ...]:
    """The keys of the link a card shows for this bill: its RECORD_URL's, else its list view's."""
    return _keys("bill", bill, bill.record_url)


def link_keys_payment(payment: Payment) -> tuple[str, ...]:
    """The keys of the link a card shows for this payment: its RECORD_URL's, else its list view's."""
    return _keys("payment", payment, payment.record_url)


def link_keys_vendor(vendor: Vendor) -> tuple[str, ...]:
    """The vendor's RECORD_URL key and always its list view's: a bill card links its vendor by id."""
    token = record_token(vendor.record_url)
    keys = [TOKEN_PREFIX + token] if token else []
    by_id = list_key("vendor", vendor.vendor_id)
    return tuple(keys + ([by_id] if by_id else []))


def _keys(kind: str, record: Bill | Payment, record_url: str | None) -> tuple[str, ...]:
    token = record_token(record_url)
    if token:
        return (TOKEN_PREFIX + token,)
    by_id = list_key(kind, list_id(record))
    return (by_id,) if by_id else ()


def read_link(url: str | None) -> LinkTarget | None:
    """The record a RECORD_URL or a list-view link names, or None for anything else (another page,
    a malformed or oversized URL, credentials in it, a scheme other than http(s)). The host is
    not judged here: which hosts are Intacct's is the caller's configuration."""
    if not isinstance(url, str) or not url or len(url) > MAX_LINK_LENGTH or not url.isprintable():
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        return None
    query = parse_qs(parts.query, keep_blank_values=True)
    path = parts.path.rstrip("/") or "/"
    if path == RECORD_PAGE_PATH:
        tokens = query.get(RECORD_TOKEN_PARAM, [])
        token = tokens[0].strip() if len(tokens) == 1 else ""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return LinkTarget(TOKEN_PREFIX + token)
    if path == DEFAULT_LIST_PATH:
        objects, filters = query.get(DEFAULT_OBJECT_PARAM, []), query.get(DEFAULT_FILTER_PARAM, [])
        kind = _KIND_OF_LIST_OBJECT.get(objects[0].strip().lower()) if len(objects) == 1 else None
        record_id = usable_list_id(filters[0]) if len(filters) == 1 else None
        if kind is None or record_id is None:
            return None
        return LinkTarget(f"{LIST_OBJECTS[kind]}:{record_id}", kind, record_id)
    return None


def is_intacct_host(host: str | None, extra_hosts: frozenset[str] = frozenset()) -> bool:
    """Whether a link's host is Intacct's: one label under intacct.com (`*.intacct.com` matches
    exactly one segment, as Teams' link domains do) or one of `extra_hosts` (the configured web hosts)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host in extra_hosts:
        return True
    label, _, domain = host.partition(".")
    return domain == INTACCT_DOMAIN and bool(label) and "." not in label
