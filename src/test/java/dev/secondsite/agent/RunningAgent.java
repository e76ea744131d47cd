package dev.secondsite.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

/** An agent running its continuous loop on its own thread, stopped (cleanly) on close; a failure fails the test. */
final class RunningAgent implements AutoCloseable {
    final Agent agent;
    final Thread thread;
    volatile Throwable failure;

    RunningAgent(Agent agent) {
        this.agent = agent;
        this.thread = Thread.ofPlatform().name("agent-under-test").start(() -> {
            try {
                agent.run();
            } catch (Throwable e) {
                failure = e;
            }
        });
    }

    @Override
    public void close() throws Exception {
        agent.stop();
        thread.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(thread.isAlive()).as("agent stopped").isFalse();
        if (failure != null) {
            throw new AssertionError("the agent failed", failure);
        }
    }
}
