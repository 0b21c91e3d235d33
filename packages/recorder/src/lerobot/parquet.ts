import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ColumnSource, parquetWriteFile, type SchemaElement } from 'hyparquet-writer';

/** A column of a LeRobot parquet file, with its parquet type. */
export type Column =
  | { name: string; kind: 'int64'; data: readonly number[] }
  | { name: string; kind: 'float32' | 'float64'; data: readonly number[] }
  | { name: string; kind: 'string'; data: readonly string[] }
  | {
      name: string;
      kind: 'list<float32>' | 'list<float64>' | 'list<int64>';
      data: readonly (readonly number[])[];
    }
  | { name: string; kind: 'list<string>'; data: readonly (readonly string[])[] };

const leaf: Record<string, Omit<SchemaElement, 'name'>> = {
  int64: { type: 'INT64' },
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
};

/** The schema elements of one column: a plain required leaf, or the 3-level LIST that Arrow and pandas read as a list. */
function schemaOf(c: Column): SchemaElement[] {
  if (c.kind.startsWith('list<')) {
    const item = c.kind.slice(5, -1);
    return [
      { name: c.name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'REQUIRED', ...leaf[item] },
    ];
  }
  return [{ name: c.name, repetition_type: 'REQUIRED', ...leaf[c.kind] }];
}

function dataOf(c: Column): ColumnSource['data'] {
  switch (c.kind) {
    case 'int64':
      return c.data.map((v) => BigInt(v));
    case 'list<int64>':
      return c.data.map((row) => row.map((v) => BigInt(v)));
    case 'float32':
      return Float32Array.from(c.data);
    case 'float64':
      return Float64Array.from(c.data);
    default:
      return c.data.map((v) => (Array.isArray(v) ? [...v] : v)) as ColumnSource['data'];
  }
}

/**
 * Writes a parquet file (made with its folder) with hyparquet-writer: every column required, list
 * columns as 3-level LISTs, and key-value metadata (the `pandas` entry that makes a column the index).
 */
export function writeParquet(
  path: string,
  columns: readonly Column[],
  kvMetadata: readonly { key: string; value: string }[] = [],
): void {
  mkdirSync(dirname(path), { recursive: true });
  parquetWriteFile({
    filename: path,
    columnData: columns.map((c) => ({ name: c.name, data: dataOf(c) })),
    schema: [{ name: 'root', num_children: columns.length }, ...columns.flatMap(schemaOf)],
    kvMetadata: [...kvMetadata],
    createdBy: '@telekit/recorder (hyparquet-writer)',
  });
}

/** The `pandas` metadata entry that has pandas read `indexColumn` as the frame's (string) index. */
export function pandasIndexMetadata(
  indexColumn: string,
  columns: readonly { name: string; pandasType: string; numpyType: string }[],
): { key: string; value: string } {
  const entry = (name: string, pandasType: string, numpyType: string) => ({
    name,
    field_name: name,
    pandas_type: pandasType,
    numpy_type: numpyType,
    metadata: null,
  });
  return {
    key: 'pandas',
    value: JSON.stringify({
      index_columns: [indexColumn],
      column_indexes: [
        {
          name: null,
          field_name: null,
          pandas_type: 'unicode',
          numpy_type: 'object',
          metadata: { encoding: 'UTF-8' },
        },
      ],
      columns: [
        ...columns.map((c) => entry(c.name, c.pandasType, c.numpyType)),
        entry(indexColumn, 'unicode', 'object'),
      ],
      creator: { library: 'pyarrow', version: '15.0.0' },
      pandas_version: '2.2.0',
    }),
  };
}
