//! The critical path of a run: the longest chain of checks that had to run one after another
//! (each waited for the one before it: `after:` or its serial group), by their durations. No
//! schedule on any number of workers ends sooner, so a run's wall clock over this is what
//! parallelism still leaves on the table (report.html outlines it; the time-to-verdict bench
//! divides by it).

/// One check as the critical path sees it, in plan order.
pub struct Node<'a> {
    pub id: &'a str,
    pub duration_ms: u64,
    /// The checks it waited for, by id.
    pub waited_for: &'a [String],
}

/// The indices of the checks on the longest chain, first to last, and its length in ms.
/// A waited-for id not among `nodes`, or not before the check in plan order, is ignored
/// (every constraint points backwards: `after` names a check declared above, a serial group
/// runs in plan order).
pub fn critical_path(nodes: &[Node]) -> (Vec<usize>, u64) {
    // Longest chain ending at each node, and the node before it on that chain.
    let mut ends: Vec<(u64, Option<usize>)> = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let before = node
            .waited_for
            .iter()
            .filter_map(|id| nodes[..i].iter().position(|n| n.id == id))
            .max_by_key(|&j| (ends[j].0, std::cmp::Reverse(j)));
        let start = before.map_or(0, |j| ends[j].0);
        ends.push((start + node.duration_ms, before));
    }
    let Some(last) = (0..nodes.len()).max_by_key(|&i| (ends[i].0, std::cmp::Reverse(i))) else {
        return (Vec::new(), 0);
    };
    let mut chain = vec![last];
    while let Some(before) = ends[*chain.last().expect("never empty")].1 {
        chain.push(before);
    }
    chain.reverse();
    (chain, ends[last].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(id: &'a str, duration_ms: u64, waited_for: &'a [String]) -> Node<'a> {
        Node {
            id,
            duration_ms,
            waited_for,
        }
    }

    #[test]
    fn the_longest_chain_wins_over_the_longest_check() {
        let none: Vec<String> = Vec::new();
        let after_a = vec!["a".to_string()];
        let after_b = vec!["b".to_string()];
        let nodes = [
            node("a", 300, &none),
            node("b", 400, &after_a),
            node("c", 900, &none),
            node("d", 300, &after_b),
        ];
        assert_eq!(critical_path(&nodes), (vec![0, 1, 3], 1000));
    }

    #[test]
    fn without_constraints_it_is_the_longest_check_and_unknown_ids_are_ignored() {
        let ghost = vec!["not-in-the-run".to_string()];
        let nodes = [node("a", 10, &ghost), node("b", 20, &[])];
        assert_eq!(critical_path(&nodes), (vec![1], 20));
        assert_eq!(critical_path(&[]), (Vec::new(), 0));
    }
}
