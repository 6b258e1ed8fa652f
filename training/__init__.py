"""Training: courses with lessons, quizzes and sandbox labs; completion, certificates, assignments, dashboard."""
