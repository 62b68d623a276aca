//! The Redis Cluster harness itself: a cluster comes up healthy, a cluster client spreads
//! keys over every master, `flush_all` empties them, and a killed master fails over.
//!
//! The tests that need an empty cluster share one 3-master cluster and take `CLEAN` in
//! turn; the failover test starts its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_tests::cluster::{node_connection, node_query, topology_seen_by, RedisCluster};
use redis::AsyncCommands;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Held by the tests that flush the shared cluster and count its keys.
static CLEAN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn shared() -> &'static RedisCluster {
    RedisCluster::shared_kind(crate::KIND)
}

async fn cluster_connection(cluster: &RedisCluster) -> redis::cluster_async::ClusterConnection {
    redis::cluster::ClusterClient::new(cluster.urls())
        .unwrap()
        .get_async_connection()
        .await
        .unwrap()
}

fn dbsize(addr: &str) -> u64 {
    node_query(addr, &["DBSIZE"]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_masters_all_report_ok() {
    let cluster = shared();
    let nodes = cluster.nodes();
    assert_eq!(nodes.len(), 3);
    assert_eq!(cluster.masters(), nodes);
    assert_eq!(cluster.urls().len(), 3);
    assert_eq!(cluster.pids().len(), 3);
    for addr in &nodes {
        let info: String = node_query(addr, &["CLUSTER", "INFO"]).unwrap();
        let lines: Vec<&str> = info.lines().map(str::trim).collect();
        for want in [
            "cluster_state:ok",
            "cluster_slots_assigned:16384",
            "cluster_slots_ok:16384",
            "cluster_known_nodes:3",
            "cluster_size:3",
        ] {
            assert!(lines.contains(&want), "{addr}: no {want} in\n{info}");
        }
        let topology = topology_seen_by(addr).unwrap();
        assert_eq!(topology.len(), 3);
        assert_eq!(
            topology.iter().map(|n| n.slot_count()).sum::<usize>(),
            16384
        );
        assert!(topology
            .iter()
            .all(|n| n.slot_count() > 0 && n.master_id.is_none()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_spread_over_every_master() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let mut conn = cluster_connection(cluster).await;
    for i in 0..3000 {
        let () = conn.set(format!("spread:{i}"), i).await.unwrap();
    }
    let back: Option<u32> = conn.get("spread:2999").await.unwrap();
    assert_eq!(back, Some(2999));

    // Each master holds exactly the keys whose slot it serves.
    let topology = cluster.topology();
    let mut by_slot_owner: HashMap<String, u64> = HashMap::new();
    let mut probe = node_connection(&cluster.nodes()[0]).unwrap();
    for i in 0..3000 {
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("spread:{i}"))
            .query(&mut probe)
            .unwrap();
        let owner = topology
            .iter()
            .find(|n| n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)))
            .unwrap();
        *by_slot_owner.entry(owner.addr.clone()).or_default() += 1;
    }
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    let sizes: Vec<u64> = masters.iter().map(|m| dbsize(m)).collect();
    eprintln!("keys per master: {masters:?} {sizes:?}");
    for (master, size) in masters.iter().zip(&sizes) {
        assert!(*size > 0, "{master} holds no key");
        assert_eq!(*size, by_slot_owner[master], "{master}");
    }
    assert_eq!(sizes.iter().sum::<u64>(), 3000);
    // The cluster client sends DBSIZE to every master and sums the answers.
    let total: u64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
    assert_eq!(total, 3000);
}

#[tokio::test(flavor = "multi_thread")]
async fn flush_all_empties_every_master() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    let mut conn = cluster_connection(cluster).await;
    for i in 0..300 {
        let () = conn.set(format!("flush:{i}"), i).await.unwrap();
    }
    assert!(cluster.masters().iter().map(|m| dbsize(m)).sum::<u64>() >= 300);
    cluster.flush_all();
    for master in cluster.masters() {
        assert_eq!(dbsize(&master), 0, "{master}");
    }
    let total: u64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap();
    assert_eq!(total, 0);
    let gone: Option<u32> = conn.get("flush:7").await.unwrap();
    assert_eq!(gone, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_master_fails_over_to_its_replica() {
    let started = Instant::now();
    let mut cluster = tokio::task::block_in_place(|| {
        RedisCluster::start_kind(crate::KIND, 3, 1, &["--cluster-node-timeout", "2000"])
    });
    eprintln!("3+3 cluster ready in {:?}", started.elapsed());
    assert_eq!(cluster.nodes().len(), 6);
    assert_eq!(cluster.masters().len(), 3);

    let (victim, replica) = cluster.first_master_and_replica();

    // A key in the victim's slots, written there and acknowledged by its replica.
    let mut direct = node_connection(&victim.addr).unwrap();
    let key = (0..)
        .map(|i| format!("failover:{i}"))
        .find(|k| {
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(k)
                .query(&mut direct)
                .unwrap();
            victim.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
        })
        .unwrap();
    let () = redis::cmd("SET")
        .arg(&key)
        .arg("before")
        .query(&mut direct)
        .unwrap();
    let acked: u64 = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query(&mut direct)
        .unwrap();
    assert_eq!(acked, 1);
    let mut old_conn = cluster_connection(&cluster).await;
    let seen: Option<String> = old_conn.get(&key).await.unwrap();
    assert_eq!(seen.as_deref(), Some("before"));

    let pids_before = cluster.pids();
    cluster.kill_node(&victim.addr);
    let killed_at = Instant::now();
    assert_eq!(cluster.pids().len(), pids_before.len() - 1);
    assert!(!cluster.nodes().contains(&victim.addr));

    // Every live node must see the replica as a healthy master serving the victim's slots.
    let deadline = killed_at + Duration::from_secs(15);
    let promoted = loop {
        let done = cluster.nodes().iter().all(|addr| {
            let ok = node_query::<String>(addr, &["CLUSTER", "INFO"])
                .is_ok_and(|i| i.lines().any(|l| l.trim() == "cluster_state:ok"));
            ok && topology_seen_by(addr).is_ok_and(|t| {
                t.iter()
                    .any(|n| n.id == replica.id && n.is_serving_master() && n.slots == victim.slots)
            })
        });
        if done {
            break killed_at.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "no failover within 15 s: {:#?}",
            cluster.topology()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "failover: replica {} promoted {promoted:?} after the kill",
        replica.addr
    );

    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    assert!(masters.contains(&replica.addr));
    assert!(!masters.contains(&victim.addr));

    // The promoted replica has the acknowledged write; the client made before the kill
    // follows the new topology, and so does a fresh one.
    let recovered_at = Instant::now();
    let after: Option<String> = old_conn.get(&key).await.unwrap();
    eprintln!(
        "old connection answered {:?} after promotion",
        recovered_at.elapsed()
    );
    assert_eq!(after.as_deref(), Some("before"));
    let () = old_conn.set(&key, "after").await.unwrap();
    let mut fresh = cluster_connection(&cluster).await;
    let now: Option<String> = fresh.get(&key).await.unwrap();
    assert_eq!(now.as_deref(), Some("after"));
    let on_new_master: Option<String> = node_query(&replica.addr, &["GET", &key]).unwrap();
    assert_eq!(on_new_master.as_deref(), Some("after"));
}
