package io.sluice.destination.postgres;

import java.util.Set;

/**
 * The column types Sluice creates, and the conflict rule (docs/warehouse.md, "Types"): a column only ever widens —
 * bigint to double precision when every value stays exact, anything else to text — so no value is ever lost.
 */
enum ColumnType {
    BOOLEAN("boolean"),
    BIGINT("bigint"),
    DOUBLE("double precision"),
    TIMESTAMPTZ("timestamp with time zone"),
    TEXT("text"),
    /** Sluice's overflow column {@code _sluice_extra}. */
    JSONB("jsonb"),
    /** A type someone else gave the column (numeric, jsonb, …): it becomes text on the first value we add. */
    OTHER(null);

    /** Integers beyond ±2^53 do not survive a double precision column. */
    static final long MAX_EXACT_DOUBLE = 1L << 53;

    final String sql;

    ColumnType(String sql) {
        this.sql = sql;
    }

    /** Whether a value of this kind can be stored in a column of this type exactly. */
    boolean accepts(Value.Kind kind) {
        return switch (this) {
            case TEXT -> true;
            case JSONB -> kind == Value.Kind.JSON;
            case BOOLEAN -> kind == Value.Kind.BOOLEAN;
            case BIGINT -> kind == Value.Kind.INT || kind == Value.Kind.BIG_INT;
            case DOUBLE -> kind == Value.Kind.INT || kind == Value.Kind.DOUBLE;
            case TIMESTAMPTZ -> kind == Value.Kind.TIMESTAMP;
            case OTHER -> false;
        };
    }

    boolean acceptsAll(Set<Value.Kind> kinds) {
        for (Value.Kind kind : kinds) {
            if (!accepts(kind)) return false;
        }
        return true;
    }

    /** The type of a new column for the values one batch brings. */
    static ColumnType forNew(Set<Value.Kind> kinds) {
        if (kinds.isEmpty()) return TEXT;
        if (kinds.contains(Value.Kind.JSON)) return JSONB;
        for (ColumnType candidate : new ColumnType[] {BOOLEAN, BIGINT, DOUBLE, TIMESTAMPTZ}) {
            if (candidate.acceptsAll(kinds)) return candidate;
        }
        return TEXT;
    }

    /**
     * The type an existing column must become to take these values as well: itself when it already accepts them,
     * double precision for a bigint column receiving fractions (the caller checks the stored integers are exact as
     * doubles, else uses text), text otherwise.
     */
    ColumnType widenedFor(Set<Value.Kind> kinds) {
        if (acceptsAll(kinds)) return this;
        if (this == BIGINT && DOUBLE.acceptsAll(kinds)) return DOUBLE;
        return TEXT;
    }

    /** Maps information_schema.columns.data_type back to our types. */
    static ColumnType fromDataType(String dataType) {
        return switch (dataType) {
            case "boolean" -> BOOLEAN;
            case "bigint" -> BIGINT;
            case "double precision" -> DOUBLE;
            case "timestamp with time zone" -> TIMESTAMPTZ;
            case "text" -> TEXT;
            case "jsonb" -> JSONB;
            default -> OTHER;
        };
    }
}
