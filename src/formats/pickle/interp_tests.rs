use super::*;

#[test]
fn stack_pops_never_reach_below_a_mark() {
    let mut s: Stack<u8> = Stack::default();
    s.push(1).unwrap();
    s.mark().unwrap();
    assert_eq!(s.pop(), Err(Fault::Underflow));
    assert_eq!(s.top().map(|v| *v), Err(Fault::Empty));
    assert_eq!(s.pop_n(1), Err(Fault::Underflow));
    s.push(2).unwrap();
    s.push(3).unwrap();
    assert_eq!(s.pop_n(2).unwrap(), [2, 3]);
    // POP with nothing above the MARK pops the MARK, as CPython does
    s.pop_or_mark().unwrap();
    assert_eq!(s.pop().unwrap(), 1);
    assert_eq!(s.pop_or_mark(), Err(Fault::NoMark));
    assert_eq!(s.pop_mark(), Err(Fault::NoMark));
    assert!(s.is_empty());
}

#[test]
fn values_and_marks_share_one_limit() {
    let mut s: Stack<()> = Stack::default();
    for i in 0..MAX_STACK {
        if i % 2 == 0 {
            s.push(()).unwrap()
        } else {
            s.mark().unwrap()
        }
    }
    assert_eq!(s.push(()), Err(Fault::StackFull));
    assert_eq!(s.mark(), Err(Fault::StackFull));
    assert_eq!(s.len(), MAX_STACK / 2);
}
