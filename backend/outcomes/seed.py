"""Putting the published instruments of catalogue.py into the database.

Used by migration 0002 (with historical models) and by tests that empty the database. Existing
instruments are left as they are: instruments never change once people have answered them.
"""

from backend.outcomes.catalogue import INSTRUMENTS


def seed_instruments(instrument_model, option_model, item_model, band_model) -> None:
    for definition in INSTRUMENTS:
        if instrument_model.objects.filter(code=definition.code).exists():
            continue
        instrument = instrument_model.objects.create(
            code=definition.code, name=definition.name, title=definition.title, version=definition.version,
            stem=definition.stem, scoring="sum_converted" if definition.conversion else "sum",
            higher_is_worse=definition.higher_is_worse, max_missing_items=definition.max_missing_items,
            missing_rule=definition.missing_rule, missing_rule_source=definition.missing_rule_source,
            bands_source=definition.bands_source, caseness_threshold=definition.caseness_threshold,
            caseness_source=definition.caseness_source, reliable_change=definition.reliable_change,
            reliable_change_source=definition.reliable_change_source,
            conversion={str(raw): str(score) for raw, score in definition.conversion.items()} if definition.conversion else None,
            conversion_source=definition.conversion_source, licence=definition.licence, source=definition.source,
            loinc_panel=definition.loinc_panel, loinc_total=definition.loinc_total, risk_note=definition.risk_note,
            is_published=True,
        )
        option_model.objects.bulk_create([option_model(instrument=instrument, value=o.value, label=o.label) for o in definition.options])
        item_model.objects.bulk_create([
            item_model(instrument=instrument, number=i.number, text=i.text, reverse_keyed=i.reverse_keyed,
                       risk_above=i.risk_above, loinc=i.loinc)
            for i in definition.items
        ])
        band_model.objects.bulk_create([
            band_model(instrument=instrument, lower=b.lower, upper=b.upper, label=b.label) for b in definition.bands
        ])
