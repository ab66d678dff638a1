package org.cachedafs.bench;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Where the runner says what it is doing: a progress bar on a terminal, plain lines otherwise, or nothing. */
interface Progress extends AutoCloseable {
  /** The next step begins. */
  void step(String what);

  /** Steps that will not run. */
  void skip(int steps);

  @Override
  void close();

  static Progress bar(int steps) {
    ProgressBar bar = new ProgressBarBuilder().setTaskName("bench").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
        .setMaxRenderedLength(110).continuousUpdate().build();
    return new Progress() {
      private boolean first = true;

      @Override
      public void step(String what) {
        if (!first) {
          bar.step();
        }
        first = false;
        bar.setExtraMessage(what);
      }

      @Override
      public void skip(int steps) {
        bar.stepBy(steps);
      }

      @Override
      public void close() {
        if (!first) {
          bar.step();
        }
        bar.close();
      }
    };
  }

  static Progress lines(java.io.PrintStream out) {
    return new Progress() {
      @Override
      public void step(String what) {
        out.println("bench: " + what);
      }

      @Override
      public void skip(int steps) {}

      @Override
      public void close() {}
    };
  }
}
