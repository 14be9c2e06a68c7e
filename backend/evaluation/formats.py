"""Writing datasets to CSV, Parquet and Excel a chunk at a time, so memory stays bounded.

Each chunk of rows becomes one pandas DataFrame with the dictionary's types, then is appended to the
file: CSV by `DataFrame.to_csv` in append mode, Parquet by one row group per chunk through
`pyarrow.parquet.ParquetWriter`, Excel row by row through openpyxl's write-only workbook.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from backend.core.errors import InvalidInput
from backend.evaluation.dictionary import BOOLEAN, DATE, INTEGER, NUMBER, STRING, Dataset, as_rows

FORMATS = {"csv": "CSV", "parquet": "Parquet", "xlsx": "Excel (xlsx)"}
EXCEL_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row

_PANDAS = {STRING: "string", INTEGER: "Int64", NUMBER: "Float64", BOOLEAN: "boolean", DATE: "object", "month": "string"}
_ARROW = {STRING: pa.string(), INTEGER: pa.int64(), NUMBER: pa.float64(), BOOLEAN: pa.bool_(), DATE: pa.date32(), "month": pa.string()}


def _type(column_type: str, date_type: str) -> str:
    return date_type if column_type == DATE else column_type


def frame(dataset: Dataset, rows: list[dict], date_type: str) -> pd.DataFrame:
    """One chunk as a DataFrame with the dictionary's columns, in order, with their types."""
    df = pd.DataFrame.from_records(rows, columns=dataset.names)
    return df.astype({c.name: _PANDAS[_type(c.type, date_type)] for c in dataset.columns})


class _Writer:
    def __init__(self, path: Path, dataset: Dataset, date_type: str):
        self.path, self.dataset, self.date_type, self.rows = path, dataset, date_type, 0

    def write(self, df: pd.DataFrame) -> None:
        self.rows += len(df)
        self._write(df)

    def _write(self, df: pd.DataFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CsvWriter(_Writer):
    def __init__(self, *args):
        super().__init__(*args)
        self.file = self.path.open("w", newline="", encoding="utf-8")
        csv.writer(self.file).writerow(self.dataset.names)

    def _write(self, df):
        df.to_csv(self.file, header=False, index=False, lineterminator="\n")

    def close(self):
        self.file.close()


class ParquetWriter(_Writer):
    def __init__(self, *args):
        super().__init__(*args)
        self.schema = pa.schema([(c.name, _ARROW[_type(c.type, self.date_type)]) for c in self.dataset.columns])
        self.writer = pq.ParquetWriter(self.path, self.schema)

    def _write(self, df):
        self.writer.write_table(pa.Table.from_pandas(df, schema=self.schema, preserve_index=False))

    def close(self):
        self.writer.close()  # an export with no rows still has its schema


class ExcelWriter(_Writer):
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


WRITERS: dict[str, type[_Writer]] = {"csv": CsvWriter, "parquet": ParquetWriter, "xlsx": ExcelWriter}
