"""Every StreamField block of the portal, in one place."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("图片"))
    caption = blocks.CharBlock(label=_("图片说明"), required=False, max_length=200)
    alt = blocks.CharBlock(
        label=_("替代文字"),
        required=False,
        max_length=200,
        help_text=_("给读屏软件读的描述；留空则使用图片说明"),
    )

    class Meta:
        icon = "image"
        label = _("图片")
        template = "home/blocks/captioned_image.html"


class GalleryBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("标题"), required=False, max_length=100)
    images = blocks.ListBlock(CaptionedImageBlock(), label=_("图片"), min_num=1)

    class Meta:
        icon = "image"
        label = _("相册")
        template = "home/blocks/gallery.html"


class VideoBlock(blocks.StructBlock):
    """An uploaded video file (no oEmbed: nothing is loaded from the internet)."""

    video = DocumentChooserBlock(label=_("视频文件"), help_text=_("上传 MP4 视频"))
    poster = ImageChooserBlock(label=_("封面图"), required=False)
    caption = blocks.CharBlock(label=_("说明"), required=False, max_length=200)

    class Meta:
        icon = "media"
        label = _("视频")
        template = "home/blocks/video.html"


class MilestoneBlock(blocks.StructBlock):
    date = blocks.DateBlock(label=_("日期"))
    title = blocks.CharBlock(label=_("节点"), max_length=100)
    description = blocks.TextBlock(label=_("说明"), required=False)
    done = blocks.BooleanBlock(label=_("已完成"), required=False)

    class Meta:
        icon = "date"
        label = _("里程碑")
        template = "home/blocks/milestone.html"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        label=_("小标题"), max_length=100, form_classname="title", template="home/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(
        label=_("正文"), features=["bold", "italic", "ol", "ul", "link", "document-link"]
    )
    image = CaptionedImageBlock()
    gallery = GalleryBlock()
    video = VideoBlock()

    class Meta:
        label = _("正文")


class MilestonesBlock(blocks.StreamBlock):
    milestone = MilestoneBlock()
