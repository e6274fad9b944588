//! `src/db/schema.rs` against what the migrations produce, as `diesel print-schema` would see it:
//! every table the file declares has the migrated table's columns, in their order, with their
//! types and nullability, and its primary key; every `joinable!` is a foreign key; and a migrated
//! table the file leaves out is one of the few that only raw SQL reads (listed below, so that a
//! new table is a decision, not an accident). Read from `information_schema` of a migrated test
//! database, so no diesel CLI is needed.

use crate::harness::TestDb;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use std::collections::{BTreeMap, BTreeSet};

/// Tables the migrations create that `schema.rs` leaves out on purpose (today only diesel's own
/// bookkeeping); a table only raw SQL reads would be listed here with its reason.
const RAW_SQL_ONLY: &[&str] = &["__diesel_schema_migrations"];

/// One table as `schema.rs` declares it.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    primary_key: Vec<String>,
    /// (name, type as diesel spells it, e.g. `Nullable<Text>`), in declaration order.
    columns: Vec<(String, String)>,
}

/// A `joinable!`: (child table, parent table, the child's column).
type Join = (String, String, String);

fn declared() -> (BTreeMap<String, Table>, Vec<Join>) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs"))
        .expect("read src/db/schema.rs");
    let mut tables = BTreeMap::new();
    let mut joins = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            // `a -> b (column));`
            let (child, rest) = rest.split_once(" -> ").expect("joinable child");
            let (parent, rest) = rest.split_once(" (").expect("joinable parent");
            let column = rest.split_once(')').expect("joinable column").0;
            joins.push((child.into(), parent.into(), column.into()));
            continue;
        }
        if line != "diesel::table! {" {
            continue;
        }
        let head = lines.next().expect("a table's name");
        let (name, primary_key) = match head.split_once(" (") {
            Some((name, keys)) => (
                name,
                keys.split_once(')')
                    .expect("closing parenthesis")
                    .0
                    .split(',')
                    .map(|k| k.trim().to_string())
                    .collect(),
            ),
            // diesel's default primary key
            None => (head.trim_end_matches(" {"), vec!["id".to_string()]),
        };
        let mut columns = Vec::new();
        // `#[sql_name = "type"]`: the next column's name in SQL.
        let mut sql_name = None;
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if let Some(name) = line.strip_prefix("#[sql_name = \"") {
                sql_name = name.split_once('"').map(|(name, _)| name.to_string());
            } else if let Some((column, ty)) = line.split_once(" -> ") {
                let column = sql_name
                    .take()
                    .unwrap_or_else(|| column.trim_start_matches("r#").to_string());
                columns.push((column, ty.trim_end_matches(',').to_string()));
            }
        }
        tables.insert(
            name.to_string(),
            Table {
                primary_key,
                columns,
            },
        );
    }
    (tables, joins)
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

/// A PostgreSQL type name (`udt_name`) as diesel's `print-schema` names its SQL type.
fn diesel_type(udt: &str) -> String {
    if let Some(element) = udt.strip_prefix('_') {
        return format!("Array<{}>", diesel_type(element));
    }
    match udt {
        "int2" => "Int2",
        "int4" => "Int4",
        "int8" => "Int8",
        "bool" => "Bool",
        "bytea" => "Bytea",
        "date" => "Date",
        "text" => "Text",
        "varchar" => "Varchar",
        "timestamptz" => "Timestamptz",
        "timestamp" => "Timestamp",
        "uuid" => "Uuid",
        "jsonb" => "Jsonb",
        "json" => "Json",
        other => panic!("no diesel type known for the column type {other}: teach diesel_type"),
    }
    .to_string()
}

/// The tables of the migrated database, as `schema.rs` would have to declare them.
fn migrated(conn: &mut PgConnection) -> BTreeMap<String, Table> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, \
                c.is_nullable = 'YES' AS nullable \
           FROM information_schema.columns c \
           JOIN information_schema.tables t USING (table_schema, table_name) \
          WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .expect("read the columns");
    let keys: Vec<Key> = diesel::sql_query(
        "SELECT k.table_name::text, k.column_name::text \
           FROM information_schema.table_constraints t \
           JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) \
          WHERE t.table_schema = 'public' AND t.constraint_type = 'PRIMARY KEY' \
          ORDER BY k.table_name, k.ordinal_position",
    )
    .load(conn)
    .expect("read the primary keys");
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for c in columns {
        let mut ty = diesel_type(&c.udt_name);
        if c.nullable {
            ty = format!("Nullable<{ty}>");
        }
        tables
            .entry(c.table_name)
            .or_insert_with(|| Table {
                primary_key: Vec::new(),
                columns: Vec::new(),
            })
            .columns
            .push((c.column_name, ty));
    }
    for k in keys {
        if let Some(table) = tables.get_mut(&k.table_name) {
            table.primary_key.push(k.column_name);
        }
    }
    tables
}

#[test]
fn schema_rs_matches_the_migrations() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let actual = migrated(&mut conn);
    let (declared, joins) = declared();
    let mut problems = Vec::new();
    for (name, table) in &declared {
        match actual.get(name) {
            None => problems.push(format!(
                "{name}: declared, but the migrations make no such table"
            )),
            Some(real) if real != table => problems.push(format!(
                "{name}: schema.rs says\n    {table:?}\n  the migrations make\n    {real:?}"
            )),
            Some(_) => {}
        }
    }
    let undeclared: BTreeSet<&String> = actual
        .keys()
        .filter(|t| !declared.contains_key(*t) && !RAW_SQL_ONLY.contains(&t.as_str()))
        .collect();
    if !undeclared.is_empty() {
        problems.push(format!(
            "tables the migrations make that schema.rs leaves out (declare them, or list them in \
             RAW_SQL_ONLY with the reason): {undeclared:?}"
        ));
    }
    for stale in RAW_SQL_ONLY.iter().filter(|t| !actual.contains_key(**t)) {
        problems.push(format!(
            "RAW_SQL_ONLY names {stale}, which the migrations do not make"
        ));
    }

    let foreign: Vec<ForeignKey> = diesel::sql_query(
        "SELECT child.relname::text AS child, a.attname::text AS column_name, \
                parent.relname::text AS parent \
           FROM pg_constraint f \
           JOIN pg_class child ON child.oid = f.conrelid \
           JOIN pg_class parent ON parent.oid = f.confrelid \
           JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = ANY (f.conkey) \
          WHERE f.contype = 'f' AND cardinality(f.conkey) = 1",
    )
    .load(&mut conn)
    .expect("read the foreign keys");
    let foreign: BTreeSet<Join> = foreign
        .into_iter()
        .map(|f| (f.child, f.parent, f.column_name))
        .collect();
    for join in &joins {
        if !foreign.contains(join) {
            problems.push(format!(
                "joinable!({} -> {} ({})) has no such foreign key in the migrations",
                join.0, join.1, join.2
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "src/db/schema.rs differs from the migrations:\n{}",
        problems.join("\n")
    );
}
