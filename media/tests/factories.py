import factory

from accounts.tests.factories import UserFactory
from media.models import MediaAsset


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaAsset

    owner = factory.SubFactory(UserFactory)
    public_id = factory.Sequence(lambda n: f"etrainer/images/owner/picture_{n:012x}")
    category = "images"
    backend = "local"
    resource_type = "image"
    format = "png"
    content_type = "image/png"
    original_name = "picture"
    bytes = 1234
    url = factory.LazyAttribute(lambda asset: f"/media/{asset.public_id}.png")
