package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The event store's {@code internal} package is not API: the app and the benchmarks must be
 * buildable on the public API alone, as any embedding application is.
 */
class LibraryBoundaryTest {
  // Split, so that this file does not match itself.
  private static final String INTERNAL = "dev.eventscan.eventstore." + "internal";

  @Test
  void nothing_outside_event_store_uses_its_internal_package() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> sources;
    try (Stream<Path> modules = Files.list(root)) {
      sources =
          modules
              .filter(module -> Files.isDirectory(module.resolve("src")))
              .filter(module -> !module.getFileName().toString().equals("event-store"))
              .flatMap(LibraryBoundaryTest::javaFiles)
              .toList();
    }
    assertThat(sources).as("java sources outside event-store").hasSizeGreaterThan(50);
    assertThat(sources)
        .filteredOn(LibraryBoundaryTest::mentionsInternal)
        .as("files that use " + INTERNAL)
        .isEmpty();
  }

  private static Stream<Path> javaFiles(Path module) {
    try {
      return Files.walk(module.resolve("src"))
          .filter(p -> p.toString().endsWith(".java"))
          .toList()
          .stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean mentionsInternal(Path source) {
    try {
      return Files.readString(source).contains(INTERNAL);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
