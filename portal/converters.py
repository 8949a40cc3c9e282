"""The `<id:…>` path converter for database ids in the portal's own URLs.

Django's `<int:…>` takes any run of digits, and a number past what the
database column holds reaches the view. Django answers "no such row" for it
only in a lookup on an integer field itself; through a relation (a page
type's `pk` is its link to Wagtail's Page) the number goes to the database
driver, and SQLite's refuses it (OverflowError): a server error. `<id:…>`
refuses such a number at the URL, so the address does not exist: 404,
before any view runs. (Django 5.1 deprecates replacing the built-in "int"
converter, hence a name of its own.)
"""

from django.urls import register_converter

#: The largest signed 64-bit integer: the range of a BigAutoField (the
#: project's DEFAULT_AUTO_FIELD) on PostgreSQL and SQLite. Wagtail's page ids
#: are 32-bit on PostgreSQL; Django's integer lookups answer "no row" for
#: those past that range themselves.
MAX_ID = 2**63 - 1


class IdConverter:
    """A database id: 0 to MAX_ID. The regex takes any digits, so that
    reverse() still builds an address for a bigger number (which then
    matches nothing); to_python refuses it."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            # ValueError tells the resolver "this pattern does not match".
            raise ValueError(f"{value} is past the largest database id")
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))


# Registered on import, once (Django warns when a converter is registered
# again): every module whose routes use `<id:…>` imports this one first
# (URLconfs, and models with routable-page routes, which are compiled with
# the class).
register_converter(IdConverter, "id")
