"""Writing datasets to CSV, Parquet and Excel a chunk at a time, so memory stays bounded.

Each chunk of rows becomes one pandas DataFrame with the dictionary's types, then is appended to the
file: CSV through pyarrow's CSV writer (booleans `true`/`false`, empty for unknown, text quoted only
where it must be), Parquet by one row group per chunk through `pyarrow.parquet.ParquetWriter`, both
from one Arrow table per chunk with the dictionary's types; Excel row by row through openpyxl's
write-only workbook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl import Workbook

from backend.core.errors import InvalidInput
from backend.evaluation.dictionary import BOOLEAN, DATE, INTEGER, NUMBER, STRING, Dataset, as_rows

FORMATS = {"csv": "CSV", "parquet": "Parquet", "xlsx": "Excel (xlsx)", "ndjson": "FHIR R4 NDJSON (the fhir dataset only)"}
EXCEL_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

_PANDAS = {STRING: "string", INTEGER: "Int64", NUMBER: "Float64", BOOLEAN: "boolean", DATE: "object", "month": "string"}
_ARROW = {STRING: pa.string(), INTEGER: pa.int64(), NUMBER: pa.float64(), BOOLEAN: pa.bool_(), DATE: pa.date32(), "month": pa.string()}


def _type(column_type: str, date_type: str) -> str:
    return date_type if column_type == DATE else column_type


def frame(dataset: Dataset, rows: list[dict] | pd.DataFrame, date_type: str) -> pd.DataFrame:
    """One chunk (row dictionaries, or a DataFrame with at least the dictionary's columns) as a
    DataFrame with the dictionary's columns, in order, with their types."""
    df = rows.reindex(columns=dataset.names) if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows, columns=dataset.names)
    return df.astype({c.name: _PANDAS[_type(c.type, date_type)] for c in dataset.columns})


class _Writer:
    """Writes one dataset into `directory`; `paths` are the files it made (the zip holds them)."""

    def __init__(self, directory: Path, dataset: Dataset, date_type: str):
        self.dataset, self.date_type, self.rows = dataset, date_type, 0
        self.path = directory / f"{dataset.code}.{self.extension}"
        self.paths = [self.path]

    extension = ""

    def write(self, rows: list[dict] | pd.DataFrame) -> None:
        df = frame(self.dataset, rows, self.date_type)
        self.rows += len(df)
        self._write(df)

    def _write(self, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _ArrowWriter(_Writer):
    """Each chunk as an Arrow table with the dictionary's types."""

    def __init__(self, *args):
        super().__init__(*args)
        self.schema = pa.schema([(c.name, _ARROW[_type(c.type, self.date_type)]) for c in self.dataset.columns])

    def _write(self, df):
        # One contiguous array per column: the CSV writer is many times slower over fragmented columns.
        self._write_table(pa.Table.from_pandas(df, schema=self.schema, preserve_index=False).combine_chunks())

    def _write_table(self, table: pa.Table) -> None:
        raise NotImplementedError


class CsvWriter(_ArrowWriter):
    extension = "csv"

    def __init__(self, *args):
        super().__init__(*args)
        self.writer = pa_csv.CSVWriter(str(self.path), self.schema, write_options=pa_csv.WriteOptions(quoting_style="needed"))

    def _write_table(self, table):
        self.writer.write_table(table)

    def close(self):
        self.writer.close()  # an export with no rows still has its header


class ParquetWriter(_ArrowWriter):
    extension = "parquet"

    def __init__(self, *args):
        super().__init__(*args)
        self.writer = pq.ParquetWriter(self.path, self.schema)

    def _write_table(self, table):
        self.writer.write_table(table)

    def close(self):
        self.writer.close()  # an export with no rows still has its schema


class ExcelWriter(_Writer):
    extension = "xlsx"

    def __init__(self, *args):
        super().__init__(*args)
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(self.dataset.code)
        self.sheet.append(self.dataset.names)

    def _write(self, df):
        if self.rows > EXCEL_MAX_ROWS:
            raise InvalidInput("Too many rows for one Excel sheet: choose csv or parquet.", field="format", code="too_many_rows_for_excel")
        for row in df.astype(object).where(df.notna(), None).itertuples(index=False, name=None):
            self.sheet.append(list(row))

    def close(self):
        dictionary = self.workbook.create_sheet("dictionary")
        rows = as_rows(self.dataset)
        dictionary.append(list(rows[0]))
        for row in rows:
            dictionary.append(list(row.values()))
        self.workbook.save(self.path)


class NdjsonWriter(_Writer):
    """FHIR Bulk Data output: one file per resource type (`Questionnaire.ndjson`, ...), one resource
    per line as compact JSON (https://hl7.org/fhir/uv/bulkdata/). Rows are resources; `rows` counts them."""

    extension = "ndjson"

    def __init__(self, directory: Path, dataset: Dataset, date_type: str):
        self.dataset, self.date_type, self.rows, self.directory = dataset, date_type, 0, directory
        self.files: dict[str, object] = {}
        self.paths: list[Path] = []

    def write(self, rows: list[dict]) -> None:
        for resource in rows:
            kind = resource["resourceType"]
            if kind not in self.files:
                path = self.directory / f"{kind}.ndjson"
                self.paths.append(path)
                self.files[kind] = path.open("w", encoding="utf-8")
            self.files[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += len(rows)

    def close(self):
        for file in self.files.values():
            file.close()


WRITERS: dict[str, type[_Writer]] = {"csv": CsvWriter, "parquet": ParquetWriter, "xlsx": ExcelWriter, "ndjson": NdjsonWriter}
