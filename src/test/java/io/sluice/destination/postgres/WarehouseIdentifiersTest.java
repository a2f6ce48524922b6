package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.destination.postgres.Identifiers.Payload;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WarehouseIdentifiersTest {

    @Test
    void segmentConventionsBecomeSnakeCase() {
        assertThat(Identifiers.eventTable("Order Completed")).isEqualTo("order_completed");
        assertThat(Identifiers.eventTable("orderCompleted")).isEqualTo("order_completed");
        assertThat(Identifiers.eventTable("order_completed")).isEqualTo("order_completed");
        assertThat(Identifiers.eventTable("  Order   Completed ")).isEqualTo("order_completed");
        assertThat(Identifiers.prefixedColumn("context", List.of("library", "name")))
                .isEqualTo("context_library_name");
        assertThat(Identifiers.prefixedColumn("context", List.of("userAgent"))).isEqualTo("context_user_agent");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("firstName")))
                .isEqualTo("first_name");
        assertThat(Identifiers.prefixedColumn("context", List.of("userID"))).isEqualTo("context_user_id");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("HTMLParser")))
                .isEqualTo("html_parser");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("address", "city")))
                .isEqualTo("address_city");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("address2")))
                .isEqualTo("address2");
        assertThat(Identifiers.schema("web")).isEqualTo("web");
    }

    @Test
    void reservedWordsArePrefixedAndTheirLiteralPrefixedFormsHashed() {
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("select")))
                .isEqualTo("_select");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("user")))
                .isEqualTo("_user");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("Order")))
                .isEqualTo("_order");
        assertThat(Identifiers.eventTable("select")).isEqualTo("_select");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("_select")))
                .matches("_select_[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("_user")))
                .isNotEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("user")));
        // Sluice's own columns and the context_ prefix are reserved for unprefixed payload columns
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("id"))).isEqualTo("_id");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("timestamp")))
                .isEqualTo("_timestamp");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("context_ip")))
                .isEqualTo("_context_ip");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("context", "ip")))
                .isEqualTo("_context_ip");
        // each payload avoids the fixed columns of the tables it lands in
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("name")))
                .isEqualTo("_name");
        assertThat(Identifiers.payloadColumn(Payload.TRAITS, List.of("name"))).isEqualTo("name");
        assertThat(Identifiers.payloadColumn(Payload.TRAITS, List.of("group_id")))
                .isEqualTo("_group_id");
        assertThat(Identifiers.payloadColumn(Payload.TRAITS, List.of("userId"))).isEqualTo("_user_id");
        assertThat(Identifiers.payloadColumn(Payload.FIELDS, List.of("previousId")))
                .isEqualTo("_previous_id");
        // the standard tables are reserved for event tables
        assertThat(Identifiers.eventTable("Users")).isEqualTo("_users");
        assertThat(Identifiers.eventTable("tracks")).isEqualTo("_tracks");
        assertThat(Identifiers.eventTable("_tracks")).matches("_tracks_[0-9a-f]{8}");
        // schemas: pg_ names are refused by PostgreSQL, public is shared
        assertThat(Identifiers.schema("pg_web")).isEqualTo("_pg_web");
        assertThat(Identifiers.schema("public")).isEqualTo("_public");
        assertThat(Identifiers.schema("_public")).matches("_public_[0-9a-f]{8}");
    }

    @Test
    void punctuationAndNonAsciiAreReplacedAndHashedSoNamesNeverCollide() {
        String dash = Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a-b"));
        String dot = Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a.b"));
        String underscore = Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a_b"));
        String nested = Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a", "b"));
        assertThat(underscore).isEqualTo("a_b");
        assertThat(nested).isEqualTo("a_b"); // Segment's flattening convention: the same column
        assertThat(dash).matches("a_b_[0-9a-f]{8}");
        assertThat(dot).matches("a_b_[0-9a-f]{8}");
        assertThat(Set.of(dash, dot, underscore)).hasSize(3);

        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("Prénom")))
                .matches("prenom_[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("Prenom")))
                .isEqualTo("prenom");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("名前"))).matches("_+[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("名前")))
                .isNotEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("名字")));
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("price ($)")))
                .matches("price_[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("quote\"d")))
                .matches("quote_d_[0-9a-f]{8}");
    }

    @Test
    void emptyNamesAndLeadingDigits() {
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of(""))).matches("_[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("   ")))
                .isEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("   ")))
                .isNotEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("")));
        assertThat(Identifiers.eventTable("")).matches("_[0-9a-f]{8}");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("1st")))
                .isEqualTo("_1st");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("_1st")))
                .matches("_1st_[0-9a-f]{8}");
        assertThat(Identifiers.eventTable("2024 Signup")).isEqualTo("_2024_signup");
        assertThat(Identifiers.prefixedColumn("context", List.of("1"))).isEqualTo("context_1");
    }

    @Test
    void longNamesAreTruncatedTo63BytesWithAHash() {
        String hundred = "x".repeat(100);
        String table = Identifiers.eventTable(hundred);
        assertThat(table).hasSize(63).startsWith("x".repeat(54) + "_").matches("x{54}_[0-9a-f]{8}");
        assertThat(Identifiers.eventTable("x".repeat(99) + "y")).hasSize(63).isNotEqualTo(table);
        assertThat(Identifiers.eventTable("x".repeat(63))).isEqualTo("x".repeat(63));
        assertThat(Identifiers.eventTable("x".repeat(64))).hasSize(63).isNotEqualTo("x".repeat(63));
        String deep = Identifiers.prefixedColumn("context", List.of("a".repeat(40), "b".repeat(40)));
        assertThat(deep.getBytes(StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(63);
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("é".repeat(100)))
                        .getBytes(StandardCharsets.UTF_8))
                .hasSizeLessThanOrEqualTo(63);
    }

    @Test
    void namesAreDeterministicAndDistinctAcrossManyOriginals() {
        List<String> originals = List.of(
                "a-b",
                "a.b",
                "a_b",
                "a b",
                "a/b",
                "a--b",
                "A-B",
                "Prénom",
                "Prenom",
                "prénom",
                "select",
                "_select",
                "1st",
                "_1st",
                "",
                " ",
                "_",
                "__",
                "x".repeat(100),
                "x".repeat(101),
                "id",
                "_id",
                "ümlaut",
                "umlaut",
                "a\u0000b",
                "a\nb",
                "a\"b",
                "emoji 🎉",
                "emoji 🎊");
        Set<String> names = new HashSet<>();
        Set<String> conventional = Set.of("a_b", "a b"); // space and underscore are the same by convention
        for (String original : originals) {
            String name = Identifiers.payloadColumn(Payload.PROPERTIES, List.of(original));
            assertThat(name).isEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of(original)));
            assertThat(name).matches("[a-z_][a-z0-9_]*").hasSizeLessThanOrEqualTo(63);
            if (!conventional.contains(original) || original.equals("a_b")) {
                assertThat(names.add(name))
                        .as("%s → %s collides", original, name)
                        .isTrue();
            }
        }
    }

    @Test
    void namesArePureFunctionsOfKindAndOriginalWhateverWasNamedBefore() {
        // a track event named "timestamp" first, then a trait "\u001etimestamp": no shared memo entry
        assertThat(Identifiers.named(Identifiers.NameKind.EVENT_TABLE, List.of("timestamp")))
                .isEqualTo("timestamp");
        assertThat(Identifiers.named(Identifiers.NameKind.TRAITS, List.of("\u001etimestamp")))
                .matches("_timestamp_[0-9a-f]{8}")
                .isEqualTo(Identifiers.payloadColumn(Payload.TRAITS, List.of("\u001etimestamp")));
        assertThat(Identifiers.named(Identifiers.NameKind.EVENT_TABLE, List.of("id")))
                .isEqualTo("id");
        assertThat(Identifiers.named(Identifiers.NameKind.TRAITS, List.of("\u001eid")))
                .matches("_id_[0-9a-f]{8}");
        // the separators of the hash input inside a name cannot make two paths meet
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a-\u001fb")))
                .isNotEqualTo(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a-", "b")));
    }

    @Test
    void aLosslessNameNeverTakesTheHashedFormOfAnother() {
        String dash = Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a-b"));
        assertThat(dash).isEqualTo("a_b_7f34949e");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("a_b_7f34949e")))
                .isNotEqualTo(dash)
                .matches("a_b_7f34949e_[0-9a-f]{8}");
        assertThat(Identifiers.eventTable("Event 12345678")).matches("event_12345678_[0-9a-f]{8}");
        assertThat(Identifiers.isHashed("a_b")).isFalse();
        assertThat(Identifiers.isHashed(dash)).isTrue();
    }

    @Test
    void systemColumnsRelationNamesAndSluicesOwnNamesAreAvoided() {
        for (String system : List.of("xmin", "XMAX", "Cmin", "cmax", "CTID", "tableoid", "TABLEOID", "oid")) {
            String column = Identifiers.payloadColumn(Payload.PROPERTIES, List.of(system));
            assertThat(column).as(system).isEqualTo("_" + system.toLowerCase(java.util.Locale.ROOT));
            assertThat(Identifiers.payloadColumn(Payload.TRAITS, List.of(system)))
                    .startsWith("_");
            assertThat(Identifiers.payloadColumn(Payload.FIELDS, List.of(system)))
                    .startsWith("_");
        }
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("_xmin")))
                .matches("_xmin_[0-9a-f]{8}");
        // an event table never meets an index (tracks_pkey), a sequence, or the mapping table
        for (String relation : List.of(
                "Tracks Pkey", "tracks_pkey", "Order Completed Pkey", "users_key", "a_idx", "b_seq", "c_pkey1")) {
            assertThat(Identifiers.eventTable(relation)).as(relation).matches(".*_[0-9a-f]{8}");
        }
        assertThat(Identifiers.eventTable("_sluice_columns")).matches("_sluice_columns_[0-9a-f]{8}");
        assertThat(Identifiers.eventTable("Sluice Columns")).isEqualTo("sluice_columns");
        assertThat(Identifiers.payloadColumn(Payload.PROPERTIES, List.of("_sluice_extra")))
                .matches("_sluice_extra_[0-9a-f]{8}");
        assertThat(Identifiers.prefixedColumn("context", List.of("x")).startsWith("context_"))
                .isTrue();
    }

    @Test
    void quotingDoublesQuotes() {
        assertThat(Identifiers.quote("order")).isEqualTo("\"order\"");
        assertThat(Identifiers.quote("a\"b")).isEqualTo("\"a\"\"b\"");
    }
}
