use crate::Outcome;

/// Says what a service's result tells about the dependency.
pub trait Classify<R, E> {
    /// The outcome to record.
    fn classify(&self, result: &Result<R, E>) -> Outcome;
}

/// `Ok` is a success, `Err` a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorIsFailure;

impl<R, E> Classify<R, E> for ErrorIsFailure {
    fn classify(&self, result: &Result<R, E>) -> Outcome {
        if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

impl<R, E, F> Classify<R, E> for F
where
    F: Fn(&Result<R, E>) -> Outcome,
{
    fn classify(&self, result: &Result<R, E>) -> Outcome {
        self(result)
    }
}
