"""Deep links into the Sage Intacct web UI for bills, payments and vendors.

Intacct documents no URL scheme for its web UI (developer.intacct.com has no page on it). What works in
practice is the read-only `RECORD_URL` field that most objects expose: an opaque link of the form
`https://<host>/ia/acct/ur.phtml?.r=<token>` that opens the record for a reader signed in to that
company (and entity) with permission to see it; anyone else lands on Intacct's sign-in page. It
embeds no credentials, so it is safe to post. The client selects it with every bill, payment and
vendor (`record.record_url`), and a card uses it unchanged.

Fallback, when a record has no RECORD_URL (not populated for that object in some company, or a
link built from an id alone, such as "Open vendor" on a bill card): the object's list view in the
company's web UI, filtered to the record's business id —

    {web_url}/ia/acct/lister.phtml?.it=<object>&.filter=<id>

Intacct documents no such URL either. It is a best effort to land the reader next to the record;
verify it against your company and, if your pages differ, pass `list_path` / `filter_param`. Cards
always show the record's id beside the button, so it can be searched for by hand.

Only absolute http(s) URLs ever reach a card: any other value (javascript:, data:, relative,
user:password@…) is dropped, and the button with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from cards import texts
from cards.errors import LinkConfigError
from cards.sanitize import clean_url
from intacct.bills import Bill
from intacct.payments import Payment
from intacct.record_links import DEFAULT_FILTER_PARAM, DEFAULT_LIST_PATH, DEFAULT_OBJECT_PARAM, LIST_OBJECTS, list_id, usable_list_id
from intacct.vendors import Vendor
from poller.events import SummarizedChange

_LIST_NAMES = {"bill": "bill", "payment": "payment", "vendor": "vendor"}


@dataclass(frozen=True, slots=True)
class IntacctLinks:
    """Builds the URLs a card opens for one company's records; see the module docstring."""

    web_url: str  # e.g. https://www.intacct.com (INTACCT_WEB_URL)
    company_id: str
    list_path: str = DEFAULT_LIST_PATH
    object_param: str = DEFAULT_OBJECT_PARAM
    filter_param: str = DEFAULT_FILTER_PARAM

    def __post_init__(self) -> None:
        base = clean_url(self.web_url)
        if base is None or urlsplit(base).query or urlsplit(base).fragment:
            raise LinkConfigError("Intacct web URL must be an absolute http(s) URL without user info, query or fragment")
        if not self.company_id or not self.company_id.strip():
            raise LinkConfigError("Intacct company id must not be empty")
        object.__setattr__(self, "web_url", base.rstrip("/"))

    @property
    def sign_in_hint(self) -> str:
        """Tooltip for every button: which company the reader must be signed in to."""
        return texts.sign_in_hint(self.company_id)

    def list_hint(self, record_kind: str) -> str:
        """Tooltip for a list button: which list opens (unfiltered), in which company."""
        return texts.list_hint(_LIST_NAMES.get(record_kind, record_kind), self.company_id)

    def bill(self, bill: Bill) -> str | None:
        """The bill's RECORD_URL, else the bill list filtered to its number."""
        return clean_url(bill.record_url) or self.list_view("bill", list_id(bill))

    def payment(self, payment: Payment) -> str | None:
        """The payment's RECORD_URL, else the payment list filtered to its record number."""
        return clean_url(payment.record_url) or self.list_view("payment", list_id(payment))

    def vendor(self, vendor: Vendor) -> str | None:
        """The vendor's RECORD_URL, else the vendor list filtered to its id."""
        return self.vendor_by_id(vendor.vendor_id, vendor.record_url)

    def vendor_by_id(self, vendor_id: str, record_url: str | None = None) -> str | None:
        """A vendor known only by id (e.g. from a bill): its RECORD_URL if given, else the list view."""
        return clean_url(record_url) or self.list_view("vendor", vendor_id)

    def change(self, change: SummarizedChange) -> str | None:
        """A summarised change: its record's URL, else the list of that kind of record."""
        return clean_url(change.url) or self.list_view(change.record_kind)

    def list_view(self, record_kind: str, record_id: str | None = None) -> str | None:
        """The list page of bills, payments or vendors, optionally filtered to one id (fallback)."""
        object_name = LIST_OBJECTS.get(record_kind)
        if object_name is None:
            return None
        params = {self.object_param: object_name}
        # Lone surrogates cannot be UTF-8 encoded (urlencode would raise) and control characters
        # have no place in an id: usable_list_id keeps printable ids of a sane length only.
        record_id = usable_list_id(record_id)
        if record_id:
            params[self.filter_param] = record_id
        # urlencode percent-encodes the id, so an id can never add parameters or change the path.
        return clean_url(f"{self.web_url}{self.list_path}?{urlencode(params)}")

