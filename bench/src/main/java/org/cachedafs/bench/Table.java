package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.List;

/** A table of text cells, rendered for the console (aligned columns) or as Markdown or HTML. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();
  /** The column whose "yes" and "NO" say whether a goal was met, coloured in HTML; -1 for none. */
  private int verdictColumn = -1;

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(Object... cells) {
    List<String> r = new ArrayList<>();
    for (Object c : cells) {
      r.add(String.valueOf(c));
    }
    rows.add(r);
    return this;
  }

  /** Colours {@code column}'s "yes" and "NO" cells in HTML as met and missed. */
  Table verdicts(String column) {
    verdictColumn = header.indexOf(column);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String console() {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = header.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    line(b, header, w);
    for (int i = 0; i < w.length; i++) {
      b.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
    }
    b.append('\n');
    rows.forEach(r -> line(b, r, w));
    return b.toString();
  }

  private static void line(StringBuilder b, List<String> cells, int[] w) {
    for (int i = 0; i < w.length; i++) {
      String c = cells.get(i);
      // Text left, numbers right, as a reader scans them.
      String cell = isNumber(c) ? " ".repeat(w[i] - c.length()) + c : c + " ".repeat(w[i] - c.length());
      b.append(i == 0 ? "" : "  ").append(cell);
    }
    b.append('\n');
  }

  /**
   * Numbers are right-aligned, as a reader compares them; text is left-aligned, as it is read. A
   * number may carry a unit or a range ("3.2 GB/s", "2.10 (1.95–2.31)", "≥ 3.00", "+4.1%"), but a
   * sentence that starts with one ("64 B round trip ...") is text.
   */
  private static boolean isNumber(String c) {
    String t = c.startsWith("≥ ") || c.startsWith("≤ ") ? c.substring(2) : c;
    int space = t.indexOf(' ');
    String first = (space < 0 ? t : t.substring(0, space)).replace(",", "").replace("%", "");
    String rest = space < 0 ? "" : t.substring(space + 1);
    try {
      Double.parseDouble(first);
    } catch (NumberFormatException e) {
      return false;
    }
    return rest.isEmpty() || rest.startsWith("(") || rest.length() <= 5;
  }

  String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("| ").append(String.join(" | ", header)).append(" |\n|");
    header.forEach(h -> b.append("---|"));
    b.append('\n');
    rows.forEach(r -> b.append("| ").append(String.join(" | ", r)).append(" |\n"));
    return b.toString();
  }

  String html() {
    StringBuilder b = new StringBuilder("<table>\n<tr>");
    header.forEach(h -> b.append("<th>").append(escape(h)).append("</th>"));
    b.append("</tr>\n");
    for (List<String> r : rows) {
      b.append("<tr>");
      for (int i = 0; i < r.size(); i++) {
        String c = r.get(i);
        String cls = i == verdictColumn && c.equals("yes") ? "met" : i == verdictColumn && c.equals("NO") ? "missed"
            : isNumber(c) ? "n" : null;
        b.append(cls == null ? "<td>" : "<td class=\"" + cls + "\">").append(escape(c)).append("</td>");
      }
      b.append("</tr>\n");
    }
    return b.append("</table>\n").toString();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
