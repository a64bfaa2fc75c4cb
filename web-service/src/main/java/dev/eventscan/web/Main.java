package dev.eventscan.web;

import java.util.Arrays;

/**
 * {@code java -jar web-service.jar} runs the service; {@code java -jar web-service.jar
 * replay|monitor ...} runs the CLI against a running service.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && !args[0].equals("serve")) {
      System.exit(Cli.run(Arrays.asList(args), System.out, System.err));
    }
    Config config;
    try {
      config = Config.fromEnvironment(System.getenv());
    } catch (Config.InvalidConfigException e) {
      System.err.println("Invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", config.logLevel());
    Service service = Service.start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(service::close, "shutdown"));
    String host = config.bindAddress().equals("0.0.0.0") ? "localhost" : config.bindAddress();
    System.out.println("eventscan is running at http://" + host + ":" + service.port() + "/");
  }
}
