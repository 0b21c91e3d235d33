"""Reads every parquet file of a LeRobot dataset with pyarrow, independently of the writer: prints
one JSON line with each file's columns (name -> Arrow type), row count and pandas index columns, plus
the data's columns as lists (small datasets only)."""

import json
import pathlib
import sys

import pyarrow.parquet as pq

root = pathlib.Path(sys.argv[1])
files = {}
for path in sorted(root.rglob("*.parquet")):
    table = pq.read_table(path)
    pandas_meta = table.schema.pandas_metadata or {}
    files[str(path.relative_to(root))] = {
        "columns": {f.name: str(f.type) for f in table.schema},
        "rows": table.num_rows,
        "index_columns": pandas_meta.get("index_columns", []),
    }
data = pq.read_table(root / "data/chunk-000/file-000.parquet").to_pydict()
episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pydict()
tasks = pq.read_table(root / "meta/tasks.parquet").to_pydict()
print(json.dumps({"files": files, "data": data, "episodes": episodes, "tasks": tasks}))
