package io.sluice.contract;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SourceSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every source's contract, compiled once at startup and read-only afterwards. A source without one is not checked
 * at all (the collector pays nothing for it).
 */
public final class Contracts {
    private static final Logger log = LoggerFactory.getLogger(Contracts.class);

    private final Map<String, Contract> bySource;
    private final String violationsTopic;

    private Contracts(Map<String, Contract> bySource, String violationsTopic) {
        this.bySource = Map.copyOf(bySource);
        this.violationsTopic = violationsTopic;
    }

    /** No source has a contract. */
    public static Contracts none() {
        return new Contracts(Map.of(), null);
    }

    /**
     * Reads and compiles the contracts of the configured sources (inline, or files relative to the config file).
     * Throws {@link ConfigException} naming {@code sources[i].contract} with every problem (and, for files, the
     * file and line numbers).
     */
    public static Contracts from(SluiceConfig config) {
        ContractReader reader = new ContractReader();
        Map<String, Contract> bySource = new LinkedHashMap<>();
        List<SourceSettings> sources = config.sources();
        for (int i = 0; i < sources.size(); i++) {
            SourceSettings source = sources.get(i);
            JsonNode value =
                    source.contract() == null ? null : source.contract().tree();
            if (value == null || value.isNull()) continue;
            String key = "sources[" + i + "].contract";
            Contract contract;
            try {
                if (value.isTextual()) {
                    if (value.asText().isBlank())
                        throw new ConfigException(key, "must be a mapping or the path of a contract file");
                    Path file = config.resolve(value.asText());
                    contract = reader.readFile(source.id(), file);
                } else if (value.isObject()) {
                    contract = reader.read(source.id(), value);
                } else {
                    throw new ConfigException(key, "must be a mapping or the path of a contract file");
                }
            } catch (ContractException e) {
                throw new ConfigException(
                        key,
                        (e.file() == null ? "" : "in " + e.file() + ": ")
                                + String.join(
                                        "; ",
                                        e.problems().stream()
                                                .map(ContractException.Problem::toString)
                                                .toList()));
            }
            log.info("Source {}: {}", source.id(), contract);
            bySource.put(source.id(), contract);
        }
        return new Contracts(bySource, config.kafka().violationsTopic());
    }

    /** The source's contract, or null when it has none. */
    public Contract forSource(String sourceId) {
        return bySource.get(sourceId);
    }

    public boolean isEmpty() {
        return bySource.isEmpty();
    }

    /** The topic violations are published to. */
    public String violationsTopic() {
        return violationsTopic;
    }
}
