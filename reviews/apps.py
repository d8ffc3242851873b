from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews of attendings"

    def ready(self):
        from reviews import pages, services
        from rotations import panels, reveal

        # Double-blind (§15): the student reads the evaluation once it is revealed.
        reveal.register(services.evaluation_revealed)
        # A completed rotation's page: write, read, answer and hide its review.
        panels.register(pages.rotation_review_panel)
        # The attending's page: the summary and the latest reviews, before requesting.
        panels.register_attending(pages.attending_reviews_panel)
