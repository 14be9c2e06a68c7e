"""The data dictionary is one piece of data; docs/data-dictionary.md is made from it and must match."""

from pathlib import Path

from django.core.management import call_command

from backend.evaluation.dictionary import DATASETS, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_is_the_dictionary(capsys):
    call_command("export_evaluation", "--dictionary")
    printed = capsys.readouterr().out
    assert printed == markdown()
    assert (ROOT / "docs" / "data-dictionary.md").read_text() == printed, (
        "docs/data-dictionary.md is out of date: run `python manage.py export_evaluation --dictionary > docs/data-dictionary.md`"
    )


def test_every_column_says_what_it_is_and_where_it_comes_from():
    for dataset in DATASETS.values():
        assert len(set(dataset.names)) == len(dataset.names)
        for column in dataset.columns:
            assert column.name and column.type and column.meaning and column.allowed and column.source, column


def test_nothing_identifying_is_a_column():
    forbidden = {"name", "full_name", "preferred_name", "email", "phone", "phone_number", "note", "notes", "delivery_note",
                 "cancellation_reason", "current_location", "location", "number", "service_user_id", "user_id"}
    for dataset in DATASETS.values():
        assert not forbidden & set(dataset.names), dataset.code
