//! `demo shop --gateway-replicas 2`: the real `shop` binary as five processes on a private
//! Redis, every one answering; one that dies is started again; SIGTERM stops them all.

use reqwest::StatusCode;

use crate::support::{
    READY, ShopPorts, assert_all_gone, get_status, http, kill, names, restarted, shop_bin_dir,
    spawn_demo, started, wait_exit, wait_healthy,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_starts_two_gateways_restarts_a_dead_service_and_stops_on_sigterm() {
    let ports = ShopPorts::free();
    let demo = spawn_demo(&shop_bin_dir(), &ports.args());
    demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
        .await
        .expect("the demo gets ready");
    let output = demo.output();
    let processes = started(&output);
    assert_eq!(
        names(&processes),
        [
            "redis",
            "payment",
            "inventory",
            "shipping",
            "gateway-1",
            "gateway-2"
        ],
        "{output}"
    );
    let expected_ports = [
        ports.redis,
        ports.payment,
        ports.inventory,
        ports.shipping,
        ports.gateways[0],
        ports.gateways[1],
    ];
    let ports_started: Vec<u16> = processes.iter().map(|p| p.port).collect();
    assert_eq!(ports_started, expected_ports);
    let http = http();
    for port in &expected_ports[1..] {
        assert_eq!(get_status(&http, *port, "/health").await, StatusCode::OK);
    }
    for expected in [
        format!("-X POST localhost:{}/api/orders", ports.gateways[0]),
        format!("curl -X PUT localhost:{}/faults", ports.payment),
        format!(
            "redis-cli -p {} HGETALL 'breaker:{{payment-service}}'",
            ports.redis
        ),
    ] {
        assert!(
            output.contains(&expected),
            "{expected:?} missing:\n{output}"
        );
    }

    let payment = &processes[1];
    kill(payment.pid);
    demo.wait_for_line_async("[demo] restarted payment ", READY)
        .await
        .expect("the demo restarts payment");
    let output = demo.output();
    assert!(
        output.contains(
            "[demo] payment exited unexpectedly (signal: 9 (SIGKILL)); restarting it in 1s \
             (restart 1)"
        ),
        "{output}"
    );
    let again = restarted(&output);
    assert_eq!(names(&again), ["payment"], "{output}");
    assert_ne!(again[0].pid, payment.pid);
    wait_healthy(ports.payment).await;
    for port in ports.gateways {
        assert_eq!(get_status(&http, port, "/health").await, StatusCode::OK);
    }

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    let output = demo.output();
    for name in ["gateway-2", "gateway-1", "shipping", "inventory", "payment"] {
        assert!(
            output.contains(&format!("[demo] stopped {name} (exit status: 0)")),
            "{name} did not stop cleanly; output:\n{output}"
        );
    }
    assert_all_gone(&processes, &demo);
    assert_all_gone(&again, &demo);
}
