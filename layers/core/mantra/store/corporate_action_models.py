"""Corporate-action factors (``corporate_actions``): one item per action of a symbol, applied on read."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from mantra.store.models import BaseModel


class CorporateActionItem(BaseModel):
    base_name = "corporate_actions"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "corporate_actions"

    symbol = UnicodeAttribute(hash_key=True)  # the exchange symbol: every series of it is adjusted
    action = UnicodeAttribute(range_key=True)  # "{ex-date ISO}#{purpose, normalised}"
    ex_date = UnicodeAttribute()
    # the share-count factor as an exact fraction, both parts as decimal text (a rights factor's can be long)
    numerator = UnicodeAttribute()
    denominator = UnicodeAttribute()
    purpose = UnicodeAttribute()
    source = UnicodeAttribute()
    loaded_ms = NumberAttribute()
