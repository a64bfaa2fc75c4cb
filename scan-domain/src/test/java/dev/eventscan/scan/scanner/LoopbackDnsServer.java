package dev.eventscan.scan.scanner;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A real DNS server on a loopback UDP port, speaking the wire format, serving a fixed zone. It
 * stands in for the internet, which tests may not reach. Names under a registered wildcard answer
 * with the wildcard's records, like {@code *.example.} in a real zone.
 */
final class LoopbackDnsServer implements AutoCloseable {
  private final DatagramSocket socket;
  private final Map<Name, List<Record>> zone = new ConcurrentHashMap<>();
  private final Map<Name, List<Record>> wildcards = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();
  private final Thread thread;

  LoopbackDnsServer() throws SocketException {
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    thread = new Thread(this::serve, "loopback-dns");
    thread.setDaemon(true);
    thread.start();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  int queryCount() {
    return queries.get();
  }

  LoopbackDnsServer add(Record record) {
    zone.computeIfAbsent(record.getName(), n -> new ArrayList<>()).add(record);
    return this;
  }

  /** Every name under {@code parent} answers A with {@code address}. */
  LoopbackDnsServer wildcard(String parent, String address) throws IOException {
    Name name = Name.fromString(parent + ".");
    wildcards.put(
        name,
        List.of(new org.xbill.DNS.ARecord(name, DClass.IN, 60, InetAddress.getByName(address))));
    return this;
  }

  private void serve() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
        queries.incrementAndGet();
        Message query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
        byte[] answer = answer(query).toWire();
        socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
      } catch (IOException e) {
        if (socket.isClosed()) {
          return;
        }
      }
    }
  }

  private Message answer(Message query) {
    Record question = query.getQuestion();
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.AA);
    response.addRecord(question, Section.QUESTION);
    Name name = question.getName();
    List<Record> records = zone.get(name);
    if (records == null) {
      records = wildcardRecords(name);
    }
    if (records == null) {
      response.getHeader().setRcode(Rcode.NXDOMAIN);
      return response;
    }
    for (Record record : records) {
      if (record.getType() == question.getType() || record.getType() == Type.CNAME) {
        response.addRecord(record, Section.ANSWER);
      }
    }
    return response;
  }

  private List<Record> wildcardRecords(Name name) {
    for (Map.Entry<Name, List<Record>> wildcard : wildcards.entrySet()) {
      if (name.subdomain(wildcard.getKey()) && !name.equals(wildcard.getKey())) {
        List<Record> synthesized = new ArrayList<>();
        for (Record record : wildcard.getValue()) {
          synthesized.add(record.withName(name));
        }
        return synthesized;
      }
    }
    return null;
  }

  @Override
  public void close() {
    socket.close();
  }
}
