package dev.eventscan.web;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL's passwords, generated at first start and kept in {@code DATA_DIR} in a
 * file only its owner can read: the superuser's (start-up and provisioning only) and the service
 * role's (everything else).
 *
 * @param created true when this start generated them (a new file)
 */
record DatabaseCredentials(String superuserPassword, String servicePassword, boolean created) {
  private static final Logger log = LoggerFactory.getLogger(DatabaseCredentials.class);
  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final SecureRandom RANDOM = new SecureRandom();

  static DatabaseCredentials loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      DatabaseCredentials generated = new DatabaseCredentials(password(), password(), true);
      Properties properties = new Properties();
      properties.setProperty("superuser.password", generated.superuserPassword());
      properties.setProperty("service.password", generated.servicePassword());
      try (Writer out = Files.newBufferedWriter(createOwnerOnly(file), StandardCharsets.UTF_8)) {
        properties.store(out, "eventscan's embedded PostgreSQL passwords; keep this file private");
      }
      return generated;
    }
    tightenPermissions(file);
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    }
    String superuser = properties.getProperty("superuser.password");
    String service = properties.getProperty("service.password");
    if (superuser == null || service == null) {
      throw new IOException(file + " lacks superuser.password or service.password");
    }
    return new DatabaseCredentials(superuser, service, false);
  }

  /** A file with one line, the superuser password, for initdb's {@code --pwfile}. */
  Path writeSuperuserPasswordFile(Path file) throws IOException {
    Files.deleteIfExists(file);
    Files.writeString(createOwnerOnly(file), superuserPassword + "\n", StandardCharsets.UTF_8);
    return file;
  }

  @Override
  public String toString() {
    return "DatabaseCredentials[passwords hidden]";
  }

  /** 192 random bits in URL-safe Base64: nothing that needs quoting in SQL or a config file. */
  private static String password() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static Path createOwnerOnly(Path file) throws IOException {
    if (!posix(file)) {
      return Files.createFile(file);
    }
    try {
      // Created with the permissions, not changed afterwards: never readable by others.
      return Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (FileAlreadyExistsException e) {
      throw new IOException(file + " appeared while it was being created", e);
    }
  }

  private static void tightenPermissions(Path file) throws IOException {
    if (posix(file) && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
      log.warn("{} was readable by others; making it owner-only", file);
      Files.setPosixFilePermissions(file, OWNER_ONLY);
    }
  }

  private static boolean posix(Path file) {
    return file.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}
