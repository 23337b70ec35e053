/**
 * What the lab needs, beyond the snapshot, to rebuild a live database's schema in its own embedded
 * copy (src/lab/ddl.ts): types, sequences, identity and generated columns, partitions, and the
 * printed definitions of functions and triggers. Read by src/introspect/ddl-catalog.ts only when
 * the lab is built from the live catalog.
 */

export interface EnumType {
  readonly schema: string;
  readonly name: string;
  readonly labels: readonly string[];
}

export interface DomainType {
  readonly schema: string;
  readonly name: string;
  /** `format_type` of the base type, schema-qualified. */
  readonly baseType: string;
  readonly notNull: boolean;
  readonly default: string | null;
  /** `pg_get_constraintdef` of each CHECK, with its name. */
  readonly checks: readonly { readonly name: string; readonly definition: string }[];
}

export interface CompositeType {
  readonly schema: string;
  readonly name: string;
  readonly attributes: readonly { readonly name: string; readonly type: string }[];
}

/** A sequence no identity column owns (serial columns' sequences and free-standing ones). */
export interface SequenceDefinition {
  readonly schema: string;
  readonly name: string;
  readonly dataType: string;
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cycle: boolean;
}

/** A column whose kind the snapshot does not spell out: identity (`always`, `by default`) or generated. */
export interface SpecialColumn {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly identity: 'always' | 'by default' | null;
  readonly generated: 'stored' | 'virtual' | null;
}

export interface PartitionDefinition {
  readonly schema: string;
  readonly name: string;
  readonly parentSchema: string;
  readonly parentName: string;
  /** `pg_get_expr(relpartbound)`: `FOR VALUES …` or `DEFAULT`. */
  readonly bound: string;
}

export interface FunctionDefinition {
  readonly schema: string;
  readonly name: string;
  readonly identityArgs: string;
  /** `pg_get_functiondef`: a whole `CREATE OR REPLACE FUNCTION` statement. */
  readonly definition: string;
  /** Its arguments or result name a table's or view's row type: created after the relations. */
  readonly afterRelations: boolean;
}

export interface TriggerDefinition {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** `pg_get_triggerdef`. */
  readonly definition: string;
}

export interface DdlCatalog {
  readonly enums: readonly EnumType[];
  readonly domains: readonly DomainType[];
  readonly composites: readonly CompositeType[];
  readonly sequences: readonly SequenceDefinition[];
  readonly specialColumns: readonly SpecialColumn[];
  readonly partitions: readonly PartitionDefinition[];
  /** `pg_get_partkeydef` of each partitioned table, keyed `schema\0name`. */
  readonly partitionKeys: readonly { readonly schema: string; readonly name: string; readonly key: string }[];
  readonly functions: readonly FunctionDefinition[];
  readonly triggers: readonly TriggerDefinition[];
}
