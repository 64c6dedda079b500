// Rows of an import file: a JSON array of users, JSON Lines (one user per line), or CSV with a
// header row naming `email`, `external_id`, `username` (other columns go to custom_metadata).

import Papa from "papaparse";

export type Row = Record<string, unknown>;

export function parseRows(name: string, text: string): Row[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  if (trimmed.startsWith("[")) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new Error("a JSON file must hold an array of users");
    return parsed as Row[];
  }
  if (name.toLowerCase().endsWith(".csv")) return parseCsv(trimmed);
  return trimmed
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return JSON.parse(line) as Row;
      } catch {
        throw new Error(`line ${index + 1} is not JSON`);
      }
    });
}

const PROFILE = new Set(["email", "external_id", "username"]);

function parseCsv(text: string): Row[] {
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true, transform: (v) => v.trim() });
  if (parsed.errors[0]) throw new Error(`CSV row ${(parsed.errors[0].row ?? 0) + 1}: ${parsed.errors[0].message}`);
  return parsed.data.map((cells) => {
    const row: Row = {};
    const metadata: Record<string, string> = {};
    for (const [column, value] of Object.entries(cells)) {
      if (value === "") continue;
      if (PROFILE.has(column)) row[column] = value;
      else metadata[column] = value;
    }
    if (Object.keys(metadata).length > 0) row.custom_metadata = metadata;
    return row;
  });
}
